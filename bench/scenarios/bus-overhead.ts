import { randomUUID } from 'node:crypto';
import { Topic } from '@sync-hub/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { startAppProcess } from '../../test/support/app-process';
import { createTestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { KafkaProbe } from '../../test/support/kafka';
import { tick } from '../../test/support/ticks';
import { eventually } from '../../test/support/wait';
import { figure, Figure, percentile } from '../stats';

export interface BusResult {
  ticks: number;
  pingP50Ms: Figure;
  pingP95Ms: Figure;
  pingP99Ms: Figure;
  rawP50Ms: Figure;
  rawP95Ms: Figure;
  rawP99Ms: Figure;
}

const ROUND_TRIP_TOPIC = 'bench.roundtrip.v1';

/**
 * Scenario 3: N `ping` ticks through Kafka one after another, tick-to-`completed` latency (a splynx-sync process claims
 * each run and publishes its events), beside the raw kafkajs produce-to-consume round trip measured the same way.
 */
export async function busOverhead(opts: { ticks: number; reps: number }): Promise<BusResult> {
  const db = await createTestDatabase('bench_bus');
  const app = await startAppProcess(
    'splynx-sync',
    { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
    'bench-bus-splynx-sync',
  );
  const probe = new KafkaProbe();
  await probe.watch([Topic.RunCompleted]);
  const kafka = new Kafka({
    clientId: 'bench-roundtrip',
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: ROUND_TRIP_TOPIC, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `bench-roundtrip-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [ROUND_TRIP_TOPIC], fromBeginning: false });
  const arrived = new Map<string, bigint>();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.run({
    eachMessage: async ({ message }) => void arrived.set(message.key!.toString(), process.hrtime.bigint()),
  });
  await eventually(() => (joined ? true : undefined), 'the round-trip consumer to join');

  const completedAt = new Map<string, bigint>();
  const origPush = probe.seen.push.bind(probe.seen);
  probe.seen.push = (...items) => {
    for (const m of items)
      if (m.topic === Topic.RunCompleted) {
        const envelope = m.json as { payload?: { runId?: string } } | null;
        completedAt.set(envelope?.payload?.runId ?? '', process.hrtime.bigint());
      }
    return origPush(...items);
  };

  const ping = { p50: [] as number[], p95: [] as number[], p99: [] as number[] };
  const raw = { p50: [] as number[], p95: [] as number[], p99: [] as number[] };
  try {
    for (let rep = 0; rep < opts.reps; rep++) {
      const pingLatencies: number[] = [];
      const rawLatencies: number[] = [];
      for (let i = 0; i < opts.ticks; i++) {
        const t = tick('splynx', 'ping');
        const start = process.hrtime.bigint();
        await probe.produce(Topic.SplynxRequested, t.key, t.value);
        const end = await eventually(() => completedAt.get(t.value.runId!), 'ping completed', 30000, 1);
        pingLatencies.push(Number(end - start) / 1e6);

        const key = randomUUID();
        const rawStart = process.hrtime.bigint();
        await producer.send({ topic: ROUND_TRIP_TOPIC, acks: -1, messages: [{ key, value: JSON.stringify(t.value) }] });
        const rawEnd = await eventually(() => arrived.get(key), 'round trip', 30000, 1);
        rawLatencies.push(Number(rawEnd - rawStart) / 1e6);
      }
      for (const [p, bucket] of [
        [50, 'p50'],
        [95, 'p95'],
        [99, 'p99'],
      ] as const) {
        ping[bucket].push(percentile(pingLatencies, p));
        raw[bucket].push(percentile(rawLatencies, p));
      }
    }
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await probe.close();
    await app.stop();
    await db.drop();
  }
  return {
    ticks: opts.ticks,
    pingP50Ms: figure(ping.p50, 'ms'),
    pingP95Ms: figure(ping.p95, 'ms'),
    pingP99Ms: figure(ping.p99, 'ms'),
    rawP50Ms: figure(raw.p50, 'ms'),
    rawP95Ms: figure(raw.p95, 'ms'),
    rawP99Ms: figure(raw.p99, 'ms'),
  };
}
