import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { currentRunLogFields } from './run-log-context';

/** Structured JSON logs (pino) with the app name and, inside a run, its runId. Secrets are redacted. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: [
          {
            level: config.logLevel,
            base: { app: config.appName },
            mixin: () => ({ ...currentRunLogFields() }),
            redact: {
              paths: [
                'req.headers.authorization',
                'req.headers.cookie',
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
          // The CLI prints its results on stdout; its logs go to stderr.
          pino.destination({ fd: config.appName === 'cli' ? 2 : 1, sync: config.appName === 'cli' }),
        ],
      }),
    }),
  ],
})
export class LoggingModule {}
