import type { Server } from 'node:http';
import { DynamicModule, INestApplication, Logger as NestLogger, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { APP_CONFIG, AppConfig, ConfigValidationError } from '@sync-hub/config';
import { createConsumerTransport, HubKafkaServer, MessageProcessor, provisionTopics } from '@sync-hub/messaging';
import { Logger } from 'nestjs-pino';
import { BusReadiness } from './bus-readiness';

export interface StartedApp {
  app: INestApplication;
  config: AppConfig;
  url: string;
}

/**
 * Starts one app: validated config (a bad value stops the process naming the variable), JSON logs, its topics
 * provisioned, its consumer joined, graceful shutdown on SIGTERM (stopOnSignals), HTTP for health, metrics and its API.
 */
export async function startApp(
  rootModule: Type<unknown> | DynamicModule,
  opts: { consumes?: boolean; configure?: (app: INestApplication) => void } = {},
): Promise<StartedApp> {
  // rawBody: the bytes a signed webhook (Robaws-Signature) was signed over are kept as `req.rawBody` beside the parsed body.
  const app = await NestFactory.create(rootModule, { bufferLogs: true, abortOnError: false, rawBody: true });
  app.useLogger(app.get(Logger));
  const config = app.get<AppConfig>(APP_CONFIG);
  const readiness = app.get(BusReadiness);

  if (config.kafka) await provisionTopics(config.kafka);
  opts.configure?.(app);
  let consumer: HubKafkaServer | null = null;
  if (opts.consumes ?? true) {
    const { strategy } = createConsumerTransport(app, config);
    if (strategy instanceof HubKafkaServer) consumer = strategy;
    readiness.consumerJoining();
    if (strategy instanceof HubKafkaServer) strategy.groupJoined.subscribe(() => readiness.consumerJoined());
    strategy.status.subscribe((status) => {
      if (status === 'connected' && !(strategy instanceof HubKafkaServer)) readiness.consumerJoined();
      if (status === 'crashed' || status === 'stopped') readiness.consumerLost();
    });
    app.connectMicroservice({ strategy }, { inheritAppConfig: true });
    // The lifecycle hooks first (the job handlers bound, the producer connected): a hybrid app runs them at `init`,
    // which `listen` would call only after the consumer started. With a group that joins at once, a tick waiting on
    // the topic was handled before them, and failed as a job this version does not implement.
    await app.init();
    await app.startAllMicroservices();
  }
  stopOnSignals(app, consumer);
  await app.listen(config.port, '0.0.0.0');
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return { app, config, url: `http://localhost:${port}` };
}

/**
 * SIGTERM or SIGINT: the Kafka consumer stops first (no tick is taken any more, and its partitions go to the other
 * replicas); then Nest's shutdown: runs in flight finish or are interrupted and recorded (beforeApplicationShutdown),
 * and only then do the HTTP server, the clients, the producer and the database close (onApplicationShutdown). Exits 0.
 * The in-process bus (embedded mode) is left to Nest: it also carries the run events the process records itself.
 */
function stopOnSignals(app: INestApplication, consumer: HubKafkaServer | null): void {
  const logger = new NestLogger('Shutdown');
  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return logger.log(`${signal} received again: already stopping`);
    stopping = true;
    const since = Date.now();
    logger.log(`${signal} received: stopping`);
    try {
      // A handler waiting out a database or bus outage gives up first (its message is redelivered): the consumer's
      // stop waits for the handler in progress.
      app.get(MessageProcessor, { strict: false }).stop();
      await consumer?.close();
      await app.close();
      logger.log(`stopped in ${Date.now() - since} ms`);
      process.exit(0);
    } catch (err) {
      logger.error(`shutdown failed: ${(err as Error)?.stack ?? String(err)}`);
      process.exit(1);
    }
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, (s: NodeJS.Signals) => void stop(s));
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
