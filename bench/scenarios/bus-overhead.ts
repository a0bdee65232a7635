import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DOMAINS, Domain, requestedTopic, Topic } from '@sync-hub/contracts';
import { provisionTopics } from '@sync-hub/messaging';
import { Consumer, Kafka, logLevel, Producer } from 'kafkajs';
import { AppProcess, ARTIFACTS, startAppProcess } from '../../test/support/app-process';
import { createTestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { groupStartingNow } from '../../test/support/kafka';
import { tick } from '../../test/support/ticks';
import { eventually } from '../../test/support/wait';
import { figure, Figure, percentile } from '../stats';
import { RAW_CLAIMS_TABLE } from './raw-run-worker';

export interface BusResult {
  /** Ticks of the latency part, one after another. */
  ticks: number;
  pingP50Ms: Figure;
  pingP95Ms: Figure;
  pingP99Ms: Figure;
  /** The raw equivalent of a ping run (raw-run-worker.ts): tick consumed, claim committed, two events, both read. */
  rawRunP50Ms: Figure;
  rawRunP95Ms: Figure;
  rawRunP99Ms: Figure;
  /** One bare kafkajs produce (acks=-1) to its consume: the bus alone. */
  bareP50Ms: Figure;
  bareP95Ms: Figure;
  bareP99Ms: Figure;
  /** Ticks of the throughput part, produced at once over `companies` companies and the four domains. */
  throughputTicks: number;
  companies: number;
  pingTicksPerSec: Figure;
  rawRunTicksPerSec: Figure;
  /** CPU time the four processes spent per tick of the throughput part (user + system, from /proc): apps, raw workers. */
  pingCpuMsPerTick: Figure;
  rawRunCpuMsPerTick: Figure;
}

/** The apps' topics have KAFKA_TOPIC_PARTITIONS (3) partitions, and their consumers take that many at once. */
const PARTITIONS = 3;
const COMPANIES = 100;
const BARE_TOPIC = 'bench.roundtrip.v1';
const RAW_STARTED = 'bench.raw.run.started.v1';
const RAW_COMPLETED = 'bench.raw.run.completed.v1';
const rawRequested = (domain: Domain) => `bench.raw.${domain}.requested.v1`;
const APPS: Record<Domain, string> = {
  splynx: 'splynx-sync',
  accounting: 'accounting-sync',
  crm: 'crm-sync',
  usage: 'usage-sync',
};
const ROOT = path.resolve(__dirname, '..', '..', '..');
const kafka = new Kafka({ clientId: 'bench-bus', brokers: TEST_KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });

/**
 * Scenario 3: what the framework adds to a run, against the same work done with bare kafkajs and mysql2.
 *
 * Latency: `ping` ticks one after another, tick produced to both run events read back, through the app (splynx-sync
 * claims the run in MariaDB and publishes `started` and `completed`), beside the raw equivalent of that work
 * (raw-run-worker.ts) and a bare produce-to-consume round trip, interleaved tick by tick so all three meet the same
 * machine. Throughput: `throughputTicks` pings over 100 companies and the four domains, produced at once, through the
 * four sync apps, and the same ticks through four raw workers (one per domain, the apps' partition concurrency), each
 * timed from the first produce to the last `completed` read back.
 */
export async function busOverhead(opts: {
  ticks: number;
  throughputTicks: number;
  reps: number;
  profileDir?: string;
}): Promise<BusResult> {
  const db = await createTestDatabase('bench_bus');
  await db.dataSource.query(RAW_CLAIMS_TABLE);
  // On a fresh broker a topic just created may not have its leader yet: provisioning again is harmless.
  await eventually(() => provisionBenchTopics().then(() => true), 'the topics to be created', 60000, 500);
  const nodeArgs = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  const started: Array<{ stop(): Promise<unknown> }> = [];
  const readers: RunEventReader[] = [];
  let producer: Producer | null = null;
  let bare: BareRoundTrip | null = null;
  try {
    const secretsKey = randomBytes(32).toString('base64');
    const apps = await allStarted(
      started,
      DOMAINS.map((d) => startApp(d, db.url, secretsKey, nodeArgs)),
    );
    const workers = await allStarted(
      started,
      DOMAINS.map((d) => startRawWorker(d, db.url, nodeArgs)),
    );
    const appPids = apps.map((a) => a.child.pid!);
    const workerPids = workers.map((w) => w.child.pid!);
    const appEvents = await RunEventReader.start(Topic.RunStarted, Topic.RunCompleted);
    readers.push(appEvents);
    const rawEvents = await RunEventReader.start(RAW_STARTED, RAW_COMPLETED);
    readers.push(rawEvents);
    bare = await BareRoundTrip.start();
    producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    const send = producer;

    const ping = latencyBuckets();
    const rawRun = latencyBuckets();
    const bareTrip = latencyBuckets();
    const pingRate: number[] = [];
    const rawRate: number[] = [];
    const pingCpu: number[] = [];
    const rawCpu: number[] = [];
    for (let rep = 0; rep < opts.reps; rep++) {
      const samples = { ping: [] as number[], rawRun: [] as number[], bare: [] as number[] };
      for (let i = 0; i < opts.ticks; i++) {
        const t = tick('splynx', 'ping');
        samples.ping.push(await oneRun(send, appEvents, Topic.SplynxRequested, t));
        const r = tick('splynx', 'ping');
        samples.rawRun.push(await oneRun(send, rawEvents, rawRequested('splynx'), r));
        samples.bare.push(await bare.once(send));
      }
      ping.add(samples.ping);
      rawRun.add(samples.rawRun);
      bareTrip.add(samples.bare);
      // Which goes first alternates, so a drift of the machine over the repetitions weighs on both.
      const order = rep % 2 === 0 ? (['app', 'raw'] as const) : (['raw', 'app'] as const);
      for (const which of order) {
        const pids = which === 'app' ? appPids : workerPids;
        const cpuBefore = cpuMs(pids);
        const rate =
          which === 'app'
            ? await manyRuns(send, appEvents, requestedTopic, opts.throughputTicks)
            : await manyRuns(send, rawEvents, rawRequested, opts.throughputTicks);
        (which === 'app' ? pingRate : rawRate).push(rate);
        (which === 'app' ? pingCpu : rawCpu).push((cpuMs(pids) - cpuBefore) / opts.throughputTicks);
      }
    }
    return {
      ticks: opts.ticks,
      pingP50Ms: figure(ping.p50, 'ms'),
      pingP95Ms: figure(ping.p95, 'ms'),
      pingP99Ms: figure(ping.p99, 'ms'),
      rawRunP50Ms: figure(rawRun.p50, 'ms'),
      rawRunP95Ms: figure(rawRun.p95, 'ms'),
      rawRunP99Ms: figure(rawRun.p99, 'ms'),
      bareP50Ms: figure(bareTrip.p50, 'ms'),
      bareP95Ms: figure(bareTrip.p95, 'ms'),
      bareP99Ms: figure(bareTrip.p99, 'ms'),
      throughputTicks: opts.throughputTicks,
      companies: COMPANIES,
      pingTicksPerSec: figure(pingRate, 'ticks/s'),
      rawRunTicksPerSec: figure(rawRate, 'ticks/s'),
      pingCpuMsPerTick: figure(pingCpu, 'ms'),
      rawRunCpuMsPerTick: figure(rawCpu, 'ms'),
    };
  } finally {
    await producer?.disconnect();
    await bare?.close();
    for (const r of readers) await r.close();
    await Promise.all(started.map((p) => p.stop()));
    await db.drop();
    await forgetTicks();
  }
}

/**
 * Deletes what this scenario left on its topics (tens of thousands of ticks and events at full size): the scenarios
 * after it, and any suite run on the same broker, read the hub's topics from the beginning with probes and groups of
 * their own, and would wade through them (the scheduler's would count them as its own ticks).
 */
async function forgetTicks(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [
      ...DOMAINS.map(requestedTopic),
      Topic.RunStarted,
      Topic.RunCompleted,
      ...DOMAINS.map(rawRequested),
      RAW_STARTED,
      RAW_COMPLETED,
      BARE_TOPIC,
    ];
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      await admin.deleteTopicRecords({
        topic,
        partitions: offsets.map((o) => ({ partition: o.partition, offset: '-1' })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits for processes starting together and notes each that came up in `started` (which the caller stops), also when
 * another failed to start: none is left running.
 */
async function allStarted<T extends { stop(): Promise<unknown> }>(
  started: Array<{ stop(): Promise<unknown> }>,
  starting: Array<Promise<T>>,
): Promise<T[]> {
  const outcomes = await Promise.allSettled(starting);
  const up = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  started.push(...up);
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
  return up;
}

/** CPU time (user + system) the processes have used so far, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return sum + (Number(fields[11]) + Number(fields[12])) * 10;
  }, 0);
}

function latencyBuckets() {
  const b = { p50: [] as number[], p95: [] as number[], p99: [] as number[] };
  return {
    ...b,
    add(samples: number[]) {
      b.p50.push(percentile(samples, 50));
      b.p95.push(percentile(samples, 95));
      b.p99.push(percentile(samples, 99));
    },
  };
}

/** One tick produced, until its `started` and `completed` have both been read back: milliseconds. */
async function oneRun(
  producer: Producer,
  events: RunEventReader,
  topic: string,
  t: ReturnType<typeof tick>,
): Promise<number> {
  const runId = t.value.payload.runId;
  const start = process.hrtime.bigint();
  await producer.send({ topic, acks: -1, messages: [{ key: t.key, value: JSON.stringify(t.value) }] });
  const end = await eventually(() => events.bothAt(runId), `run ${runId} on ${topic}`, 30000, 1);
  return Number(end - start) / 1e6;
}

/**
 * `count` ping ticks over COMPANIES companies and the four domains, produced at once (requests of 1,000 in parallel),
 * until every `completed` has been read back: ticks per second from the first produce to the last `completed`.
 */
async function manyRuns(
  producer: Producer,
  events: RunEventReader,
  topicOf: (domain: Domain) => string,
  count: number,
): Promise<number> {
  const ticks = Array.from({ length: count }, (_, i) =>
    tick(DOMAINS[i % DOMAINS.length], 'ping', { companyId: (Math.floor(i / DOMAINS.length) % COMPANIES) + 1 }),
  );
  const ids = ticks.map((t) => t.value.payload.runId);
  const start = process.hrtime.bigint();
  const requests: Array<Promise<unknown>> = [];
  for (let i = 0; i < ticks.length; i += 1000) {
    const chunk = ticks.slice(i, i + 1000);
    const topicMessages = DOMAINS.map((domain) => ({
      topic: topicOf(domain),
      messages: chunk
        .filter((t) => t.value.payload.domain === domain)
        .map((t) => ({ key: t.key, value: JSON.stringify(t.value) })),
    }));
    requests.push(producer.sendBatch({ topicMessages, acks: -1 }));
  }
  await Promise.all(requests);
  await eventually(
    () => (events.completedCount(ids) === ids.length ? true : undefined),
    `${count} runs through ${topicOf('splynx')}`,
    10 * 60000,
    20,
  );
  const end = ids.reduce((latest, id) => {
    const at = events.completedAt(id)!;
    return at > latest ? at : latest;
  }, start);
  return count / (Number(end - start) / 1e9);
}

/** The topics of this scenario: the hub's (as the apps provision them) and the raw workers', laid out like them. */
async function provisionBenchTopics(): Promise<void> {
  await provisionTopics({
    brokers: TEST_KAFKA_BROKERS.split(','),
    clientId: 'bench-bus',
    groupId: 'unused',
    topicPartitions: PARTITIONS,
    replicationFactor: 1,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = [BARE_TOPIC, RAW_STARTED, RAW_COMPLETED, ...DOMAINS.map(rawRequested)].filter(
      (t) => !existing.has(t),
    );
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** A new consumer group at the end of `topics` (on a fresh broker, once the topics just created have leaders). */
function startingNow(groupId: string, topics: string[]): Promise<string> {
  return eventually(() => groupStartingNow(groupId, topics), 'the topics to have leaders', 30000, 500);
}

/** A domain's sync app, its consumer group starting at the end of what it consumes (this scenario's ticks only). */
async function startApp(
  domain: Domain,
  databaseUrl: string,
  secretsKey: string,
  nodeArgs: string[],
): Promise<AppProcess> {
  const topics: string[] = [requestedTopic(domain)];
  if (domain === 'crm') topics.push(Topic.RobawsWebhookReceived);
  return startAppProcess(
    APPS[domain],
    {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      KAFKA_GROUP_ID: await startingNow(`bench-bus-${domain}-${randomBytes(4).toString('hex')}`, topics),
      DATABASE_URL: databaseUrl,
      // accounting-sync will not start without these (its connections' secrets, its OAuth endpoints' keys).
      SECRETS_KEY: secretsKey,
      GATEWAY_API_KEYS: `bench-${secretsKey}`,
      LOG_LEVEL: 'warn',
    },
    `bench-bus-${APPS[domain]}`,
    nodeArgs,
  );
}

/** The raw equivalent of a domain's sync app (raw-run-worker.ts), as a process of its own; resolves once it has joined. */
async function startRawWorker(
  domain: Domain,
  databaseUrl: string,
  nodeArgs: string[],
): Promise<{ child: ChildProcess; stop(): Promise<unknown> }> {
  const topic = rawRequested(domain);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = path.join(ARTIFACTS, `bench-bus-raw-${domain}.log`);
  const log = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, [...nodeArgs, path.join(__dirname, 'raw-run-worker.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      RAW_APP: `raw-${domain}`,
      RAW_BROKERS: TEST_KAFKA_BROKERS,
      RAW_DATABASE_URL: databaseUrl,
      RAW_GROUP_ID: await startingNow(`bench-raw-${domain}-${randomBytes(4).toString('hex')}`, [topic]),
      RAW_TOPIC: topic,
      RAW_STARTED_TOPIC: RAW_STARTED,
      RAW_COMPLETED_TOPIC: RAW_COMPLETED,
      RAW_PARTITIONS_CONCURRENTLY: String(PARTITIONS),
    },
    stdio: ['ignore', 'pipe', log],
  });
  let ready = false;
  let exited: number | null = null;
  child.stdout!.on('data', (chunk: Buffer) => (ready ||= chunk.toString().includes('ready')));
  child.once('exit', (code) => (exited = code ?? -1));
  await eventually(
    () => {
      if (exited !== null) throw new Error(`the raw worker exited with ${exited}: ${fs.readFileSync(logFile, 'utf8')}`);
      return ready ? true : undefined;
    },
    `the ${domain} raw worker to join its group`,
    60000,
    50,
  ).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', resolve);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 20000).unref();
      }),
  };
}

/**
 * Reads a pair of run-event topics (`started`, `completed`) from their end, and notes when each run's events arrived.
 * The same reader reads the apps' events and the raw workers', so both pay the same to be read.
 */
class RunEventReader {
  private readonly started = new Map<string, bigint>();
  private readonly completed = new Map<string, bigint>();

  private constructor(
    private readonly consumer: Consumer,
    private readonly startedTopic: string,
  ) {}

  static async start(startedTopic: string, completedTopic: string): Promise<RunEventReader> {
    const topics = [startedTopic, completedTopic];
    const consumer = kafka.consumer({
      groupId: await startingNow(`bench-bus-reader-${randomUUID()}`, topics),
      maxWaitTimeInMs: 1000,
    });
    const reader = new RunEventReader(consumer, startedTopic);
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachMessage: async ({ topic, message }) => {
        const at = process.hrtime.bigint();
        const runId = (JSON.parse(message.value?.toString() ?? 'null') as { payload?: { runId?: string } } | null)
          ?.payload?.runId;
        if (runId) (topic === reader.startedTopic ? reader.started : reader.completed).set(runId, at);
      },
    });
    await eventually(() => (joined ? true : undefined), 'the run-event reader to join', 30000, 50);
    return reader;
  }

  /** When both of the run's events had been read, or undefined until they have. */
  bothAt(runId: string): bigint | undefined {
    const s = this.started.get(runId);
    const c = this.completed.get(runId);
    return s === undefined || c === undefined ? undefined : s > c ? s : c;
  }

  completedAt(runId: string): bigint | undefined {
    return this.completed.get(runId);
  }

  completedCount(runIds: string[]): number {
    return runIds.reduce((n, id) => n + (this.completed.has(id) ? 1 : 0), 0);
  }

  close(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/** The bus alone: one produce with acks=-1 to its consume, by a consumer of its own. */
class BareRoundTrip {
  private readonly arrived = new Map<string, bigint>();

  private constructor(private readonly consumer: Consumer) {}

  static async start(): Promise<BareRoundTrip> {
    const consumer = kafka.consumer({
      groupId: await startingNow(`bench-roundtrip-${randomUUID()}`, [BARE_TOPIC]),
    });
    const trip = new BareRoundTrip(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [BARE_TOPIC], fromBeginning: true });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.run({
      eachMessage: async ({ message }) => void trip.arrived.set(message.key!.toString(), process.hrtime.bigint()),
    });
    await eventually(() => (joined ? true : undefined), 'the round-trip consumer to join', 30000, 50);
    return trip;
  }

  async once(producer: Producer): Promise<number> {
    const key = randomUUID();
    const start = process.hrtime.bigint();
    await producer.send({ topic: BARE_TOPIC, acks: -1, messages: [{ key, value: JSON.stringify({ key }) }] });
    const end = await eventually(() => this.arrived.get(key), 'round trip', 30000, 1);
    return Number(end - start) / 1e6;
  }

  close(): Promise<void> {
    return this.consumer.disconnect();
  }
}
