import { Logger } from '@nestjs/common';
import { KafkaConfig as AppKafkaConfig } from '@sync-hub/config';
import { ALL_TOPICS, COMPACTED_TOPICS, deadLetterTopic, isChangeEventTopic } from '@sync-hub/contracts';
import { Kafka } from 'kafkajs';
import { kafkaClientConfig } from './kafka-options';

/** Every topic the hub needs, with its dead-letter twin. */
export function hubTopics(): string[] {
  return ALL_TOPICS.flatMap((t) => [t, deadLetterTopic(t)]);
}

/**
 * Change-event topics (issue 16) are compacted like the state topics, with settings that keep their promise to late
 * consumers: a record's every change stays readable for an hour before compaction may drop it for a newer one
 * (`min.compaction.lag.ms`), segments roll daily so compaction does run (`segment.ms`; the active segment is never
 * compacted), and a tombstone, should one ever be written, is kept a day (`delete.retention.ms`).
 */
export const CHANGE_EVENT_TOPIC_CONFIG: ReadonlyArray<{ name: string; value: string }> = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'min.compaction.lag.ms', value: String(60 * 60 * 1000) },
  { name: 'segment.ms', value: String(24 * 60 * 60 * 1000) },
  { name: 'delete.retention.ms', value: String(24 * 60 * 60 * 1000) },
];

/** Per-topic settings: a state topic is compacted (its `.dlq` keeps the default `delete` policy). */
export function topicConfig(topic: string): Array<{ name: string; value: string }> {
  if (isChangeEventTopic(topic)) return CHANGE_EVENT_TOPIC_CONFIG.map((c) => ({ ...c }));
  return (COMPACTED_TOPICS as readonly string[]).includes(topic) ? [{ name: 'cleanup.policy', value: 'compact' }] : [];
}

/**
 * Creates the hub's topics with kafkajs admin (the broker does not auto-create them). Idempotent: existing topics are
 * left as they are. Every app runs it at start; the k8s topic Job runs it once before a rollout.
 */
export async function provisionTopics(kafka: AppKafkaConfig, topics = hubTopics()): Promise<string[]> {
  const logger = new Logger('TopicProvisioner');
  const admin = new Kafka(kafkaClientConfig(kafka, '-admin')).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: kafka.topicPartitions,
          replicationFactor: kafka.replicationFactor,
          configEntries: topicConfig(topic),
        })),
      });
      logger.log(`created topics: ${missing.join(', ')}`);
    }
    return missing;
  } catch (err) {
    // Another app may have created the same topic a moment earlier.
    if ((err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return [];
    throw err;
  } finally {
    await admin.disconnect();
  }
}
