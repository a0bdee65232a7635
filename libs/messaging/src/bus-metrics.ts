import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig, KafkaConfig as AppKafkaConfig } from '@sync-hub/config';
import { ALL_TOPICS, deadLetterTopic } from '@sync-hub/contracts';
import { MetricsService } from '@sync-hub/observability';
import { Admin, Consumer, Kafka, logLevel } from 'kafkajs';
import { DeadLetterTally } from './dead-letter-tally';
import { kafkaClientConfig } from './kafka-options';
import { hubTopics } from './topic-provisioner';

/** Offsets are read at most this often, however often /metrics is scraped. */
const LAG_CACHE_MS = 10000;
const DEAD_LETTER_CACHE_MS = 5000;
/**
 * Groups that are not the hub's consumers: the CLI's dlq readers (deleted after each command) and these metrics' own
 * `.dlq` readers (which never commit).
 */
const NOT_A_CONSUMER = /^sync-hub-cli-dlq-|-dlq-metrics-/;

/**
 * The bus-wide metrics, reported by the gateway (GatewayModule imports BusMetricsModule): the lag of every consumer
 * group on the hub's topics, and the dead letters on every `.dlq`. One place sees every group, so a sync app that is
 * down still has its lag reported. Nothing in the embedded mode (no Kafka, no groups, dead letters only logged).
 *
 * - Lag: at scrape time (cached LAG_CACHE_MS), the committed offsets of each consumer group against the topics' end
 *   offsets, summed over partitions; a partition the group has not committed on counts from its start offset (the
 *   apps read from the beginning).
 * - Dead letters: a consumer of its own (a group per process that never commits, so it leaves nothing behind) reads
 *   every `.dlq` from the beginning and keeps on reading; it tells the letters from the replay markers, which offsets
 *   alone cannot. At scrape time the letters still retained (offset ≥ the partition's start) are counted.
 */
@Injectable()
export class KafkaBusMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(KafkaBusMetrics.name);
  private readonly kafka: AppKafkaConfig | null;
  private readonly tally = new DeadLetterTally();
  private admin: Admin | null = null;
  private reader: Consumer | null = null;
  private starting: Promise<void> | null = null;
  private readonly stopReporting: Array<() => void> = [];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.kafka = config.kafka;
  }

  onApplicationBootstrap(): void {
    const kafka = this.kafka;
    if (!kafka) return;
    // As the bus probe's admin: no retries and a short connection timeout, so a scrape while the broker is down
    // answers at once (the scrape's own time box is the backstop).
    this.admin = new Kafka({
      ...kafkaClientConfig(kafka, '-metrics'),
      connectionTimeout: 1000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    }).admin();
    this.stopReporting.push(
      this.metrics.addScrapeSource({
        name: 'kafka_offsets',
        gauges: [this.metrics.consumerLag],
        cacheMs: LAG_CACHE_MS,
        refresh: () => this.withAdmin((admin) => this.refreshLag(admin)),
      }),
      this.metrics.addScrapeSource({
        name: 'dead_letters',
        gauges: [this.metrics.deadLetterDepth, this.metrics.deadLetterPending],
        cacheMs: DEAD_LETTER_CACHE_MS,
        refresh: () => this.withAdmin((admin) => this.refreshDeadLetters(admin)),
      }),
    );
    this.startReading(kafka);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const stop of this.stopReporting.splice(0)) stop();
    await this.starting?.catch(() => undefined);
    await this.reader?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** Starts the `.dlq` reader (again, if it could not start before: the broker was down). */
  private startReading(kafka: AppKafkaConfig): void {
    if (this.reader || this.starting) return;
    const reader = new Kafka(kafkaClientConfig(kafka, '-dlq-metrics')).consumer({
      groupId: `${kafka.clientId}-dlq-metrics-${randomUUID().slice(0, 8)}`,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1000,
    });
    this.starting = (async () => {
      await reader.connect();
      await reader.subscribe({ topics: ALL_TOPICS.map(deadLetterTopic), fromBeginning: true });
      await reader.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) =>
          this.tally.add(topic, partition, message.offset, message.headers),
      });
      this.reader = reader;
    })()
      .catch(async (err: Error) => {
        this.logger.warn(`cannot read the .dlq topics for the metrics yet: ${err.message}`);
        await reader.disconnect().catch(() => undefined);
      })
      .finally(() => (this.starting = null));
  }

  private async withAdmin(read: (admin: Admin) => Promise<void>): Promise<void> {
    const admin = this.admin!;
    try {
      await admin.connect();
      await read(admin);
    } catch (err) {
      // A fresh connection for the next scrape: kafkajs may keep a dead one.
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
  }

  private async refreshLag(admin: Admin): Promise<void> {
    const hub = new Set(hubTopics());
    const { groups } = await admin.listGroups();
    const consumers = groups.filter((g) => g.protocolType === 'consumer' && !NOT_A_CONSUMER.test(g.groupId));
    const committed = await Promise.all(
      consumers.map(async ({ groupId }) => ({
        groupId,
        topics: (await admin.fetchOffsets({ groupId })).filter((t) => hub.has(t.topic)),
      })),
    );
    const topics = [...new Set(committed.flatMap((g) => g.topics.map((t) => t.topic)))];
    const ends = new Map(await Promise.all(topics.map(async (t) => [t, await admin.fetchTopicOffsets(t)] as const)));
    this.metrics.consumerLag.reset();
    for (const { groupId, topics: offsets } of committed) {
      for (const { topic, partitions } of offsets) {
        const byPartition = new Map((ends.get(topic) ?? []).map((p) => [p.partition, p]));
        let lag = 0;
        for (const { partition, offset } of partitions) {
          const end = byPartition.get(partition);
          if (!end) continue;
          const from = Number(offset) >= 0 ? Number(offset) : Number(end.low);
          lag += Math.max(0, Number(end.high) - from);
        }
        this.metrics.consumerLag.set({ group: groupId, topic }, lag);
      }
    }
  }

  private async refreshDeadLetters(admin: Admin): Promise<void> {
    if (!this.reader) {
      this.startReading(this.kafka!);
      throw new Error('the .dlq reader has not started');
    }
    const dlqs = ALL_TOPICS.map(deadLetterTopic);
    const starts = await Promise.all(
      dlqs.map(async (dlq) => {
        const offsets = await admin.fetchTopicOffsets(dlq);
        return [dlq, new Map(offsets.map((p) => [p.partition, Number(p.low)]))] as const;
      }),
    );
    for (const [dlq, start] of starts) {
      const { depth, pending } = this.tally.count(dlq, start);
      this.metrics.deadLetterDepth.set({ topic: dlq }, depth);
      this.metrics.deadLetterPending.set({ topic: dlq }, pending);
    }
  }
}

/** The bus-wide metrics (consumer lag, dead letters): imported by the gateway only. */
@Module({ providers: [KafkaBusMetrics] })
export class BusMetricsModule {}
