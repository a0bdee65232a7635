import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { currentRunLogFields } from './run-log-context';
import { prettyLogStream } from './pretty-log-stream';

/**
 * pino logs with the app name and, inside a run, its runId; secrets are redacted before a line is written. JSON lines
 * by default; readable lines with LOG_FORMAT=pretty (the default for the embedded mode on a terminal).
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        // The CLI prints its results on stdout; its logs go to stderr.
        const fd = config.appName === 'cli' ? 2 : 1;
        return {
          pinoHttp: [
            {
              level: config.logLevel,
              base: { app: config.appName },
              mixin: () => ({ ...currentRunLogFields() }),
              redact: {
                paths: [
                  'req.headers.authorization',
                  'req.headers.cookie',
                  'req.headers["robaws-signature"]',
                  '*.password',
                  '*.secret',
                  '*.apiSecret',
                  '*.token',
                ],
                censor: '[redacted]',
              },
              autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
              quietReqLogger: true,
            },
            config.logFormat === 'pretty'
              ? prettyLogStream(fd)
              : pino.destination({ fd, sync: config.appName === 'cli' }),
          ],
        };
      },
    }),
  ],
})
export class LoggingModule {}
