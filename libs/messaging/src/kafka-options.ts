import { Logger } from '@nestjs/common';
import { KafkaConfig as AppKafkaConfig } from '@sync-hub/config';
import { KafkaOptions } from '@nestjs/microservices';
import { KafkaConfig, LogEntry, logCreator, logLevel, Partitioners } from 'kafkajs';

/**
 * kafkajs's own lines (its retries, reconnects, group changes) through the app's logger, so they carry the app's JSON
 * shape and `app` field like every other line (context `kafkajs`; the namespace and kafkajs's fields beside the
 * message). Without it the producer and admin print kafkajs's default JSON on stdout, and Nest's consumer a flattened
 * string.
 */
export function kafkaLogCreator(
  logger: Pick<Logger, 'error' | 'warn' | 'log' | 'debug'> = new Logger('kafkajs'),
): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      // kafkajs's own timestamp and logger name would only repeat pino's.
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
      const line = { msg: `${namespace}: ${message}`, namespace, ...fields };
      if (level === logLevel.ERROR || level === logLevel.NOTHING) logger.error(line);
      else if (level === logLevel.WARN) logger.warn(line);
      else if (level === logLevel.INFO) logger.log(line);
      else logger.debug(line);
    };
}

/** kafkajs client settings shared by the consumer, the producer and the admin of one app. */
export function kafkaClientConfig(kafka: AppKafkaConfig, suffix = ''): KafkaConfig {
  return {
    clientId: `${kafka.clientId}${suffix}`,
    brokers: kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(),
    connectionTimeout: 5000,
    retry: { initialRetryTime: 300, retries: 8 },
  };
}

/** Nest's Kafka transport: one consumer group per app, no topic auto-creation, no "-server" suffix on ids. */
export function kafkaServerOptions(kafka: AppKafkaConfig): NonNullable<KafkaOptions['options']> {
  return {
    postfixId: '',
    client: kafkaClientConfig(kafka, '-consumer'),
    consumer: {
      groupId: kafka.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30000,
      heartbeatInterval: 3000,
      rebalanceTimeout: 60000,
      // A fetch waits this long for new messages; stopping the consumer at SIGTERM waits for the fetch (5 s by default).
      maxWaitTimeInMs: 1000,
    },
    // A group with no committed offset (first deploy, new app) starts at the oldest retained tick, so a tick
    // published before the consumer first joined is not lost. Stale ones are skipped by their deadline, and
    // run claims keep a replayed tick from running twice.
    subscribe: { fromBeginning: true },
    run: { partitionsConsumedConcurrently: kafka.topicPartitions, autoCommit: true },
    producer: { allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner },
  };
}
