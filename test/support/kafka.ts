import { randomUUID } from 'node:crypto';
import { Topic } from '@sync-hub/contracts';
import { provisionTopics } from '@sync-hub/messaging';
import { Consumer, IHeaders, Kafka, logLevel, Producer } from 'kafkajs';
import { TEST_KAFKA_BROKERS } from './env';
import { eventually } from './wait';

/**
 * The topics each app consumes, for a group of its own that starts at their end (`freshGroup`). An app on its default
 * group resumes where the same app of an earlier suite on that broker stopped, and a new group starts at the beginning:
 * either way it reads earlier suites' ticks and run events first (thousands, late in a test lane) before this suite's.
 */
export const CONSUMED_TOPICS = {
  gateway: [
    Topic.RunStarted,
    Topic.RunCompleted,
    Topic.RunFailed,
    Topic.RunSkipped,
    Topic.ScheduleChanged,
    Topic.SettingChanged,
  ],
  'splynx-sync': [Topic.SplynxRequested],
  'accounting-sync': [Topic.AccountingRequested, Topic.CompanyChanged],
  'crm-sync': [Topic.CrmRequested, Topic.RobawsWebhookReceived],
  'usage-sync': [Topic.UsageRequested],
} satisfies Record<string, Topic[]>;

export interface SeenMessage {
  topic: string;
  key: string | null;
  value: string;
  /** A decoded message of any topic; tests read what they assert on. */
  json: any;
  headers: Record<string, string>;
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v != null) out[k] = v.toString();
  return out;
}

/**
 * An independent kafkajs client for the tests: it reads topics from the beginning with its own group (nothing from
 * the project's messaging layer), and produces raw messages.
 */
export class KafkaProbe {
  private readonly kafka = new Kafka({
    clientId: `e2e-${randomUUID().slice(0, 8)}`,
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  readonly seen: SeenMessage[] = [];

  async watch(topics: string[]): Promise<void> {
    // On a fresh broker the apps may not have created the topics yet; the project's provisioner is idempotent.
    await provisionTopics({
      brokers: TEST_KAFKA_BROKERS.split(','),
      clientId: 'e2e-probe',
      groupId: 'unused',
      topicPartitions: 3,
      replicationFactor: 1,
    });
    this.consumer = this.kafka.consumer({ groupId: `e2e-probe-${randomUUID()}` });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: true });
    let joined = false;
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => (joined = true));
    await this.consumer.run({
      eachMessage: async ({ topic, message }) => {
        const value = message.value?.toString() ?? '';
        let json: unknown;
        try {
          json = JSON.parse(value);
        } catch {
          json = null;
        }
        this.seen.push({
          topic,
          key: message.key?.toString() ?? null,
          value,
          json,
          headers: decodeHeaders(message.headers),
        });
      },
    });
    await eventually(() => (joined ? true : undefined), 'the probe consumer to join', 30000);
  }

  async produce(topic: string, key: string, value: string | object): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
      await this.producer.connect();
    }
    await this.producer.send({
      topic,
      messages: [{ key, value: typeof value === 'string' ? value : JSON.stringify(value) }],
    });
  }

  messages(topic: string, predicate: (m: SeenMessage) => boolean = () => true): SeenMessage[] {
    return this.seen.filter((m) => m.topic === topic && predicate(m));
  }

  forRun(topic: string, runId: string): SeenMessage[] {
    return this.messages(topic, (m) => m.json?.payload?.runId === runId);
  }

  waitFor(
    topic: string,
    predicate: (m: SeenMessage) => boolean,
    what: string,
    timeoutMs = 60000,
  ): Promise<SeenMessage> {
    return eventually(() => this.messages(topic, predicate)[0], what, timeoutMs);
  }

  /** The run's `completed`, `failed` or `skipped` event, whichever comes. */
  /**
   * The end of a run. A scheduled run's id is derived from its schedule and slot, so a suite run again on the same
   * broker (a manual clock starting at the same minutes) meets its earlier run's events: `since` (ISO) ignores those.
   */
  waitForRunEnd(runId: string, timeoutMs = 90000, since = ''): Promise<SeenMessage> {
    const ends: string[] = ['sync.run.completed.v1', 'sync.run.failed.v1', 'sync.run.skipped.v1'];
    return eventually(
      () =>
        this.seen.find(
          (m) => ends.includes(m.topic) && m.json?.payload?.runId === runId && (m.json?.occurredAt ?? '') >= since,
        ),
      `the end of run ${runId}`,
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
  }
}

/**
 * Commits offsets for a new consumer group at the current end of `topics`, so an app that joins it reads only what
 * comes next: on a broker shared by suites, other suites' ticks and run events (same company ids, fresh deadlines)
 * would otherwise be read from the beginning and run here too. The topics must exist.
 *
 * One OffsetCommit for the group while it has no member (Kafka's AdminClient.alterConsumerGroupOffsets, through
 * @platformatic/kafka), not kafkajs's `admin.setOffsets`: that joins the group with a consumer, waits for a fetch and
 * leaves, about 3.4 s a topic, which made this 10 s for an app's three topics, at every app start of the suites and
 * the bench.
 */
export async function groupStartingNow(groupId: string, topics: string[]): Promise<string> {
  const kafkajsAdmin = new Kafka({
    clientId: `e2e-offsets-${randomUUID().slice(0, 8)}`,
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await kafkajsAdmin.connect();
  const ends: Array<{ name: string; partitionOffsets: Array<{ partition: number; offset: bigint }> }> = [];
  try {
    // One topic at a time: kafkajs calls in parallel on a fresh client can open a broker connection that disconnect()
    // does not close (a suite's process then never exits).
    for (const name of topics) {
      const offsets = await kafkajsAdmin.fetchTopicOffsets(name);
      ends.push({ name, partitionOffsets: offsets.map((o) => ({ partition: o.partition, offset: BigInt(o.high) })) });
    }
  } finally {
    await kafkajsAdmin.disconnect();
  }
  const { Admin } = await import('@platformatic/kafka');
  const admin = new Admin({
    clientId: `e2e-offsets-${randomUUID().slice(0, 8)}`,
    bootstrapBrokers: TEST_KAFKA_BROKERS.split(','),
  });
  try {
    await admin.alterConsumerGroupOffsets({ groupId, topics: ends });
  } finally {
    await admin.close();
  }
  return groupId;
}

/**
 * A new consumer group (`<prefix>-<random>`) starting at the current end of `topics`, provisioning the topics first (on
 * a fresh broker no app has created them yet): for an app a suite starts, so that it runs this suite's messages only.
 */
export async function freshGroup(prefix: string, topics: string[]): Promise<string> {
  await provisionTopics({
    brokers: TEST_KAFKA_BROKERS.split(','),
    clientId: `e2e-${prefix}`,
    groupId: 'unused',
    topicPartitions: 3,
    replicationFactor: 1,
  });
  return eventually(
    () => groupStartingNow(`${prefix}-${randomUUID().slice(0, 8)}`, topics),
    'the topics to have leaders',
    30000,
    500,
  );
}
