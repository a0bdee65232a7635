import { Kafka, logLevel } from 'kafkajs';
import { createPool, Pool } from 'mysql2/promise';

/**
 * The raw equivalent of a sync app answering `ping` (scenario 3), with bare kafkajs and mysql2 and nothing of the hub:
 * it consumes a tick, inserts and commits its claim row (a unique key on the run id, like `run_claims`), then produces
 * `started` and `completed` with acks=-1 from an idempotent producer, one after the other (the app's order). It is a
 * process of its own, as each app is, and consumes with the app's consumer settings and partition concurrency; like
 * the app's run executor, the handler returns once the claim is committed and the two events go out apart from it.
 *
 * Settings come from the environment (bus-overhead.ts sets them): RAW_BROKERS, RAW_DATABASE_URL, RAW_GROUP_ID,
 * RAW_TOPIC, RAW_STARTED_TOPIC, RAW_COMPLETED_TOPIC, RAW_PARTITIONS_CONCURRENTLY, RAW_APP. It writes `ready` on stdout
 * once its consumer has joined its group, and stops at SIGTERM.
 */
export const RAW_CLAIMS_TABLE = `CREATE TABLE IF NOT EXISTS bench_raw_claims (
  run_id varchar(36) NOT NULL PRIMARY KEY,
  app varchar(64) NOT NULL,
  status varchar(16) NOT NULL,
  job_key varchar(191) NOT NULL,
  tick text NOT NULL,
  claimed_until datetime(3) NOT NULL,
  updated_at datetime(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

interface Tick {
  runId: string;
  domain: string;
  job: string;
  companyId: number;
  trigger: string;
  scheduledFor: string;
}

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** A run event shaped like the hub's (an envelope whose payload carries the run id), so one reader reads both. */
function runEvent(type: string, tick: Tick, startedAt: Date, finishedAt?: Date): string {
  return JSON.stringify({
    id: `${tick.runId}:${type}`,
    type,
    occurredAt: new Date().toISOString(),
    payload: {
      runId: tick.runId,
      domain: tick.domain,
      job: tick.job,
      companyId: tick.companyId,
      trigger: tick.trigger,
      scheduledFor: tick.scheduledFor,
      startedAt: startedAt.toISOString(),
      ...(finishedAt
        ? { finishedAt: finishedAt.toISOString(), durationMs: finishedAt.getTime() - startedAt.getTime() }
        : {}),
    },
  });
}

async function claim(pool: Pool, app: string, key: string, tick: Tick, now: Date): Promise<void> {
  await pool.query(
    'INSERT INTO bench_raw_claims (run_id, app, status, job_key, tick, claimed_until, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [tick.runId, app, 'running', `job:${key}`, JSON.stringify(tick), new Date(now.getTime() + 60000), now],
  );
}

async function main(): Promise<void> {
  const app = process.env.RAW_APP ?? 'raw-worker';
  const pool = createPool({ uri: setting('RAW_DATABASE_URL'), connectionLimit: 10 });
  const kafka = new Kafka({ clientId: app, brokers: setting('RAW_BROKERS').split(','), logLevel: logLevel.WARN });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false });
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: setting('RAW_GROUP_ID'),
    allowAutoTopicCreation: false,
    sessionTimeout: 30000,
    heartbeatInterval: 3000,
    rebalanceTimeout: 60000,
    maxWaitTimeInMs: 1000,
  });
  await consumer.connect();
  // The bench set the group's offsets to the topic's end before this process started.
  await consumer.subscribe({ topics: [setting('RAW_TOPIC')], fromBeginning: true });
  consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('ready\n'));
  const startedTopic = setting('RAW_STARTED_TOPIC');
  const completedTopic = setting('RAW_COMPLETED_TOPIC');
  const inFlight = new Set<Promise<void>>();
  const send = (topic: string, key: string, value: string) =>
    producer.send({ topic, acks: -1, messages: [{ key, value }] });
  await consumer.run({
    partitionsConsumedConcurrently: Number(setting('RAW_PARTITIONS_CONCURRENTLY')),
    autoCommit: true,
    eachMessage: async ({ message }) => {
      const tick = (JSON.parse(message.value!.toString()) as { payload: Tick }).payload;
      const startedAt = new Date();
      await claim(pool, app, message.key?.toString() ?? '', tick, startedAt);
      const run = (async () => {
        await send(startedTopic, tick.runId, runEvent('sync.run.started', tick, startedAt));
        await send(completedTopic, tick.runId, runEvent('sync.run.completed', tick, startedAt, new Date()));
      })().catch((err: Error) => {
        process.stderr.write(`raw run ${tick.runId} failed: ${err.stack ?? err.message}\n`);
        process.exit(1);
      });
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    },
  });
  process.once('SIGTERM', () => {
    void (async () => {
      await consumer.disconnect();
      await Promise.allSettled([...inFlight]);
      await producer.disconnect();
      await pool.end();
      process.exit(0);
    })();
  });
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
