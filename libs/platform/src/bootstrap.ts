import type { Server } from 'node:http';
import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { APP_CONFIG, AppConfig, ConfigValidationError } from '@sync-hub/config';
import { createConsumerTransport, HubKafkaServer, provisionTopics } from '@sync-hub/messaging';
import { Logger } from 'nestjs-pino';
import { BusReadiness } from './bus-readiness';

export interface StartedApp {
  app: INestApplication;
  config: AppConfig;
  url: string;
}

/**
 * Starts one app: validated config (a bad value stops the process naming the variable), JSON logs, its topics
 * provisioned, its consumer joined, graceful shutdown on SIGTERM, HTTP for health, metrics and its API.
 */
export async function startApp(
  rootModule: Type<unknown> | DynamicModule,
  opts: { consumes?: boolean; configure?: (app: INestApplication) => void } = {},
): Promise<StartedApp> {
  // rawBody: the bytes a signed webhook (Robaws-Signature) was signed over are kept as `req.rawBody` beside the parsed body.
  const app = await NestFactory.create(rootModule, { bufferLogs: true, abortOnError: false, rawBody: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const config = app.get<AppConfig>(APP_CONFIG);
  const readiness = app.get(BusReadiness);

  if (config.kafka) await provisionTopics(config.kafka);
  opts.configure?.(app);
  if (opts.consumes ?? true) {
    const { strategy } = createConsumerTransport(app, config);
    readiness.consumerJoining();
    if (strategy instanceof HubKafkaServer) strategy.groupJoined.subscribe(() => readiness.consumerJoined());
    strategy.status.subscribe((status) => {
      if (status === 'connected' && !(strategy instanceof HubKafkaServer)) readiness.consumerJoined();
      if (status === 'crashed' || status === 'stopped') readiness.consumerLost();
    });
    app.connectMicroservice({ strategy }, { inheritAppConfig: true });
    await app.startAllMicroservices();
  }
  await app.listen(config.port, '0.0.0.0');
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return { app, config, url: `http://localhost:${port}` };
}

/** For main.ts: print configuration errors plainly and exit 1; anything else is logged as a start-up failure. */
export function exitOnStartupError(err: unknown): never {
  if (err instanceof ConfigValidationError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`start-up failed: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
}
