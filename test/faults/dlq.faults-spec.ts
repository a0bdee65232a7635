import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { deadLetterTopic, DOMAINS, envelope, requestedTopic, Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { Consumer, IHeaders, Kafka, logLevel, Producer } from 'kafkajs';
import { AppProcess, startAppProcess } from '../support/app-process';
import { cli } from '../support/cli';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { CONSUMED_TOPICS, freshGroup } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

/** Every topic an app consumes, by the app that consumes it (the usage.* events have no consumer yet). */
const CONSUMED: Record<string, Topic[]> = CONSUMED_TOPICS;
const TICK_DOMAIN = new Map(DOMAINS.map((d) => [requestedTopic(d) as string, d]));
const ALL_CONSUMED = Object.values(CONSUMED).flat();
const RUN_EVENTS = [Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];
const SPLYNX_DLQ = deadLetterTopic(Topic.SplynxRequested);
/** Long enough for a message that would be sent twice (a retry, a second delivery) to have arrived. */
const SETTLE_MS = 4000;

interface RawSeen {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

const header = (m: RawSeen, name: string): string | undefined => m.headers[name]?.toString();
const json = (m: RawSeen): any => {
  try {
    return JSON.parse(m.value?.toString() ?? '');
  } catch {
    return null;
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A consumer of its own that keeps every record's bytes (the probe of test/support decodes them as text). */
class RawWatch {
  private readonly kafka = new Kafka({
    clientId: `faults-dlq-${randomUUID().slice(0, 8)}`,
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  readonly seen: RawSeen[] = [];

  async watch(topics: string[]): Promise<void> {
    // The group starts at the end of every topic: only this suite's records count.
    const consumer = this.kafka.consumer({ groupId: await freshGroup('faults-dlq-watch', topics) });
    this.consumer = consumer;
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
    await consumer.connect();
    await consumer.subscribe({ topics });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) =>
        void this.seen.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
          headers: message.headers ?? {},
        }),
    });
    await eventually(() => (joined ? true : undefined), 'the watching consumer to join', 30000);
  }

  async produce(topic: string, key: string | Buffer, value: string | Buffer | object, headers?: IHeaders) {
    if (!this.producer) {
      this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
      await this.producer.connect();
    }
    const bytes = typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value);
    await this.producer.send({ topic, messages: [{ key, value: bytes, headers }] });
  }

  on(topic: string, predicate: (m: RawSeen) => boolean = () => true): RawSeen[] {
    return this.seen.filter((m) => m.topic === topic && predicate(m));
  }

  forRun(topic: string, runId: string): RawSeen[] {
    return this.on(topic, (m) => json(m)?.payload?.runId === runId);
  }

  waitFor(topic: string, predicate: (m: RawSeen) => boolean, what: string, timeoutMs = 60000): Promise<RawSeen> {
    return eventually(() => this.on(topic, predicate)[0], what, timeoutMs);
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
  }
}

describe('faults 5: poison messages land on their .dlq; dlq:list shows them, dlq:replay republishes them once', () => {
  let db: TestDatabase;
  let simulator: SplynxSimulator;
  const apps = new Map<string, AppProcess>();
  const raw = new RawWatch();
  const suite = randomBytes(4).toString('hex');
  let cliEnv: Record<string, string>;
  const dlqCli = (...args: string[]) => cli(args, cliEnv);

  /** A valid ping tick as an earlier delivery left it on the .dlq (its handler then failed 3 times). */
  async function deadLetteredTick(value: object, key: string): Promise<RawSeen> {
    const marker = `faults-dlq-${randomUUID()}`;
    await raw.produce(SPLYNX_DLQ, key, value, {
      trace: marker,
      error: 'could not reach the database',
      attempts: '3',
      failedAt: new Date().toISOString(),
      originalTopic: Topic.SplynxRequested,
    });
    return raw.waitFor(SPLYNX_DLQ, (m) => header(m, 'trace') === marker, 'the crafted dead letter');
  }

  before(async () => {
    db = await createTestDatabase('faults_dlq');
    simulator = new SplynxSimulator({ customers: 5 });
    const splynxUrl = await simulator.start();
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: 'faults-dlq-gateway-key-0123456789',
      SECRETS_KEY: randomBytes(32).toString('base64'),
      SPLYNX_URL: splynxUrl,
      SPLYNX_API_KEY: simulator.apiKey,
      SPLYNX_API_SECRET: simulator.apiSecret,
    };
    cliEnv = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url };
    await raw.watch([...ALL_CONSUMED.map(deadLetterTopic), Topic.SplynxRequested, ...RUN_EVENTS]);
    // All at once (most of a start is waiting for the consumer group to form); each app in a group of its own that
    // starts now, so only this suite's messages reach it on the suite's broker.
    await Promise.all(
      Object.entries(CONSUMED).map(async ([app, topics]) => {
        const group = await freshGroup(`faults-dlq-${app}`, topics);
        apps.set(app, await startAppProcess(app, { ...common, KAFKA_GROUP_ID: group }, `faults-dlq-${app}`));
      }),
    );
  });

  after(async () => {
    await Promise.all([...apps.values()].map((a) => a.stop()));
    await raw.close();
    await simulator?.stop();
    await db?.drop();
  });

  it('an invalid message on every consumed topic lands on its .dlq once, with the precise error, attempts 0', async () => {
    const keyOf = (topic: string) => `poison-${suite}-${topic}`;
    for (const topic of ALL_CONSUMED) {
      const domain = TICK_DOMAIN.get(topic);
      // A tick: valid JSON, a valid envelope, one bad field; any other topic: not JSON at all.
      if (domain) await raw.produce(topic, keyOf(topic), tick(domain, 'ping', { companyId: 0 }).value);
      else await raw.produce(topic, keyOf(topic), 'this is not json');
    }
    for (const topic of ALL_CONSUMED)
      await raw.waitFor(deadLetterTopic(topic), (m) => m.key?.toString() === keyOf(topic), `the poison on ${topic}`);
    await sleep(SETTLE_MS);
    for (const topic of ALL_CONSUMED) {
      const letters = raw.on(deadLetterTopic(topic), (m) => m.key?.toString() === keyOf(topic));
      assert.equal(letters.length, 1, `${topic}: dead-lettered exactly once`);
      const [letter] = letters;
      const expected = TICK_DOMAIN.has(topic)
        ? /^invalid message: payload\.companyId: companyId must not be less than 1$/
        : /^invalid message: value: must be a JSON object envelope$/;
      assert.match(header(letter, 'error') ?? '', expected, topic);
      assert.equal(header(letter, 'attempts'), '0', topic);
      assert.equal(header(letter, 'originalTopic'), topic);
      assert.match(header(letter, 'originalOffset') ?? '', /^\d+$/);
      assert.match(header(letter, 'originalPartition') ?? '', /^[0-2]$/);
    }
    // Nothing ran: an invalid tick starts no run.
    assert.equal(raw.on(Topic.RunStarted, (m) => json(m)?.payload?.companyId === 0).length, 0);

    const list = await dlqCli('dlq:list', Topic.CrmRequested);
    assert.equal(list.code, 0, list.stderr);
    const row = list.stdout.split('\n').find((l) => l.includes(keyOf(Topic.CrmRequested)));
    assert.ok(row, list.stdout);
    const letter = raw.on(
      deadLetterTopic(Topic.CrmRequested),
      (m) => m.key?.toString() === keyOf(Topic.CrmRequested),
    )[0];
    assert.match(row, new RegExp(`^${letter.partition}:${letter.offset}\\s`));
    assert.match(row, /\s0\s+-\s+invalid message: payload\.companyId: companyId must not be less than 1$/);
    const byDlqName = await dlqCli('dlq:list', deadLetterTopic(Topic.SettingChanged));
    assert.equal(byDlqName.code, 0, byDlqName.stderr);
    assert.match(byDlqName.stdout, new RegExp(`${keyOf(Topic.SettingChanged)}\\s.*must be a JSON object envelope`));
  });

  it('a handler that fails deterministically is tried KAFKA_MAX_ATTEMPTS (3) times, then dead-lettered with its error', async () => {
    const clientId = 700000 + Math.floor(Math.random() * 1000);
    const value = envelope('crm.robaws.webhook.received', {
      deliveryId: `faults-dlq-${suite}`,
      event: 'client.updated',
      clientId,
      record: { id: clientId + 1, name: 'Not the client it says' },
      receivedAt: new Date().toISOString(),
    });
    await raw.produce(Topic.RobawsWebhookReceived, String(clientId), value);
    const dlq = deadLetterTopic(Topic.RobawsWebhookReceived);
    const letter = await raw.waitFor(dlq, (m) => json(m)?.id === value.id, 'the failing delivery on the DLQ');
    await sleep(SETTLE_MS);
    assert.equal(raw.on(dlq, (m) => json(m)?.id === value.id).length, 1);
    assert.equal(header(letter, 'error'), `payload.record.id is not the client id ${clientId}`);
    assert.equal(header(letter, 'attempts'), '3');
    assert.equal(letter.value?.toString(), JSON.stringify(value), 'the value as it was produced');
    const list = await dlqCli('dlq:list', Topic.RobawsWebhookReceived);
    assert.match(
      list.stdout,
      new RegExp(
        `^${letter.partition}:${letter.offset}\\s.*\\s3\\s+-\\s+payload\\.record\\.id is not the client id ${clientId}$`,
        'm',
      ),
    );
  });

  it('a binary value (fffe0001) is kept byte for byte, with its key and headers, through the DLQ and a replay', async () => {
    const key = Buffer.concat([Buffer.from('c3ff', 'hex'), randomBytes(4)]);
    const bytes = Buffer.from('fffe0001', 'hex');
    await raw.produce(Topic.SplynxRequested, key, bytes, { trace: Buffer.from('ff00', 'hex') });
    const sameKey = (m: RawSeen) => m.key?.equals(key) === true;
    const original = await raw.waitFor(Topic.SplynxRequested, sameKey, 'the binary message');
    const letter = await raw.waitFor(SPLYNX_DLQ, sameKey, 'the binary message on the DLQ');
    assert.equal(letter.value?.toString('hex'), 'fffe0001');
    assert.equal((letter.headers.trace as Buffer).toString('hex'), 'ff00');
    assert.match(header(letter, 'error') ?? '', /must be a JSON object envelope/);
    assert.equal(header(letter, 'originalPartition'), String(original.partition));
    assert.equal(header(letter, 'originalOffset'), original.offset);
    const id = `${letter.partition}:${letter.offset}`;

    const list = await dlqCli('dlq:list', Topic.SplynxRequested);
    assert.match(list.stdout, new RegExp(`^${id}\\s.*\\s0x${key.toString('hex')}\\s+0\\s+-\\s`, 'm'));

    const replay = await dlqCli('dlq:replay', Topic.SplynxRequested, `--id=${id}`);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /^1 republished, 0 replayed already$/m);
    await eventually(() => (raw.on(SPLYNX_DLQ, sameKey).length === 2 ? true : undefined), 'the replay dead-lettered');
    await sleep(SETTLE_MS);
    const republished = raw.on(Topic.SplynxRequested, sameKey);
    assert.equal(republished.length, 2, 'the original and one replay');
    const again = republished[1];
    assert.ok(again.value?.equals(bytes), 'the replay carries the four bytes');
    assert.equal((again.headers.trace as Buffer).toString('hex'), 'ff00');
    assert.equal(header(again, 'replayedFrom'), `${SPLYNX_DLQ}@${id}`);
    assert.equal(header(again, 'error'), undefined, 'the dead-letter headers are taken off');
    const letters = raw.on(SPLYNX_DLQ, sameKey);
    assert.equal(letters.length, 2, 'dead-lettered again, once');
    assert.ok(letters[1].value?.equals(bytes));
    assert.equal(header(letters[1], 'replayedFrom'), `${SPLYNX_DLQ}@${id}`);
  });

  it('a replayed tick that was dead-lettered runs once, and replaying it again republishes nothing', async () => {
    const ping = tick('splynx', 'ping');
    const runId = ping.value.payload.runId;
    const letter = await deadLetteredTick(ping.value, ping.key);
    const id = `${letter.partition}:${letter.offset}`;
    const listed = await dlqCli('dlq:list', SPLYNX_DLQ);
    assert.match(
      listed.stdout,
      new RegExp(`^${id}\\s.*\\s${ping.key}\\s+3\\s+-\\s+could not reach the database$`, 'm'),
    );

    const first = await dlqCli('dlq:replay', Topic.SplynxRequested, `--id=${id}`);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${id}: republished to ${Topic.SplynxRequested}\n1 republished, 0 replayed already\n`);
    await raw.waitFor(Topic.RunCompleted, (m) => json(m)?.payload?.runId === runId, 'the replayed run to complete');

    const second = await dlqCli('dlq:replay', SPLYNX_DLQ, `--id=${id}`);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`^${id}: replayed already at \\S+, not republished$`, 'm'));
    assert.match(second.stdout, /^0 republished, 1 replayed already$/m);
    await sleep(SETTLE_MS);
    assert.equal(raw.forRun(Topic.SplynxRequested, runId).length, 1, 'republished once');
    assert.equal(raw.forRun(Topic.RunStarted, runId).length, 1, 'started once');
    assert.equal(raw.forRun(Topic.RunCompleted, runId).length, 1, 'completed once');
    const after = await dlqCli('dlq:list', Topic.SplynxRequested);
    assert.match(after.stdout, new RegExp(`^${id}\\s.*\\s3\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+could not reach`, 'm'));
  });

  it('replaying a tick that already ran does not run it again (its run claim), and replay-all republishes only what is pending', async () => {
    const ping = tick('splynx', 'ping');
    const runId = ping.value.payload.runId;
    await raw.produce(Topic.SplynxRequested, ping.key, ping.value);
    await raw.waitFor(Topic.RunCompleted, (m) => json(m)?.payload?.runId === runId, 'the ping to complete');
    // A copy of the same tick (the same run id) dead-lettered by an earlier delivery.
    const letter = await deadLetteredTick(ping.value, ping.key);
    const id = `${letter.partition}:${letter.offset}`;

    const listed = await dlqCli('dlq:list', Topic.SplynxRequested);
    assert.match(listed.stdout, new RegExp(`^${id}\\s.*\\s3\\s+-\\s+could not reach the database$`, 'm'), 'pending');
    // What else the .dlq holds by now (this suite's earlier poison, other suites' letters): all pending ones go.
    const summary = /: (\d+) dead-lettered, (\d+) replayed$/m.exec(listed.stdout);
    assert.ok(summary, listed.stdout);
    const due = Number(summary[1]) - Number(summary[2]);

    const all = await dlqCli('dlq:replay', Topic.SplynxRequested);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, new RegExp(`^${due} republished, ${summary[2]} replayed already$`, 'm'));
    assert.match(all.stdout, new RegExp(`^${id}: republished to ${Topic.SplynxRequested.replace(/\./g, '\\.')}$`, 'm'));

    const log = apps.get('splynx-sync')!.logFile;
    await eventually(
      () => (fs.readFileSync(log, 'utf8').includes(`run ${runId} was already taken on (completed)`) ? true : undefined),
      'the replayed tick to be recognised as a duplicate',
    );
    await sleep(SETTLE_MS);
    assert.equal(raw.forRun(Topic.SplynxRequested, runId).length, 2, 'the first delivery and the replay');
    assert.equal(raw.forRun(Topic.RunStarted, runId).length, 1, 'started once');
    assert.equal(raw.forRun(Topic.RunCompleted, runId).length, 1, 'completed once');

    // The invalid ones among them failed again: each is a new dead letter (replayedFrom says which), and the next
    // replay-all republishes exactly those, nothing it replayed before.
    const replayedIds = [...all.stdout.matchAll(/^(\d+:\d+): republished to /gm)].map((m) => m[1]);
    assert.equal(replayedIds.length, due);
    const back = raw.on(SPLYNX_DLQ, (m) => replayedIds.some((r) => header(m, 'replayedFrom') === `${SPLYNX_DLQ}@${r}`));
    assert.ok(!back.some((m) => json(m)?.payload?.runId === runId), 'the duplicate tick is not dead-lettered');
    const next = await dlqCli('dlq:replay', Topic.SplynxRequested);
    assert.equal(next.code, 0, next.stderr);
    const replayedBefore = Number(summary[2]) + due;
    assert.match(next.stdout, new RegExp(`^${back.length} republished, ${replayedBefore} replayed already$`, 'm'));
  });

  it('usage errors exit 2: an unknown topic, an id not on the .dlq, an id that is not <partition>:<offset>', async () => {
    const unknown = await dlqCli('dlq:list', 'sync.nothing.requested.v1');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown topic "sync\.nothing\.requested\.v1"/);
    const unknownReplay = await dlqCli('dlq:replay', 'nope.dlq');
    assert.equal(unknownReplay.code, 2);
    const missing = await dlqCli('dlq:replay', Topic.UsageRequested, '--id=2:999999');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no message 2:999999 on sync\.usage\.requested\.v1\.dlq/);
    const malformed = await dlqCli('dlq:replay', Topic.UsageRequested, '--id=latest');
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /must be <partition>:<offset>/);
    const embedded = await cli(['dlq:list', Topic.UsageRequested], {});
    assert.equal(embedded.code, 2);
    assert.match(embedded.stderr, /need KAFKA_BROKERS/);
  });
});
