import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { deadLetterTopic, Topic } from '@sync-hub/contracts';
import { Admin, Kafka, logLevel, Producer } from 'kafkajs';
import { AppProcess, startAppProcess } from '../support/app-process';
import { cli } from '../support/cli';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { CONSUMED_TOPICS, freshGroup } from '../support/kafka';
import { eventually } from '../support/wait';

const COMPLETED_DLQ = deadLetterTopic(Topic.RunCompleted);

/** One series' value in Prometheus' text format, or undefined when the series is not there. */
function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** `dlq:list`'s own count of a .dlq: what the metrics must agree with. */
async function listed(env: Record<string, string>): Promise<{ letters: number; replayed: number; out: string }> {
  const list = await cli(['dlq:list', Topic.RunCompleted], env);
  assert.equal(list.code, 0, list.stderr);
  const m = /: (\d+) dead-lettered, (\d+) replayed/.exec(list.stdout);
  return m ? { letters: Number(m[1]), replayed: Number(m[2]), out: list.stdout } : { letters: 0, replayed: 0, out: '' };
}

describe('/metrics on the real broker and MariaDB: consumer lag, dead letters, outbox depth (gateway)', () => {
  let db: TestDatabase;
  let gateway: AppProcess;
  let cliEnv: Record<string, string>;
  const kafka = new Kafka({
    clientId: `e2e-metrics-${randomUUID().slice(0, 8)}`,
    brokers: TEST_KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  let producer: Producer;
  let admin: Admin;
  const suite = randomBytes(4).toString('hex');

  const scrape = async (): Promise<string> => {
    const started = Date.now();
    const res = await fetch(`${gateway.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    scrapeTimes.push(Date.now() - started);
    return text;
  };
  const scrapeTimes: number[] = [];
  /** Scrapes until the series has the value (the gateway caches offsets for up to 10 s), then returns the text. */
  const until = (name: string, labels: Record<string, string>, value: number) =>
    eventually(
      async () => {
        const text = await scrape();
        return series(text, name, labels) === value ? text : undefined;
      },
      `${name}${JSON.stringify(labels)} = ${value}`,
      45000,
      500,
    );

  before(async () => {
    db = await createTestDatabase('metrics');
    cliEnv = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url };
    const group = await freshGroup('metrics-gateway', CONSUMED_TOPICS.gateway);
    gateway = await startAppProcess(
      'gateway',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        DATABASE_URL: db.url,
        KAFKA_GROUP_ID: group,
        GATEWAY_API_KEYS: 'metrics-e2e-gateway-key-0123456789',
      },
      'metrics-gateway',
    );
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    console.log(`/metrics answered in ${Math.max(...scrapeTimes)} ms at most over ${scrapeTimes.length} scrapes`);
    await gateway?.stop();
    await producer?.disconnect();
    await admin?.disconnect();
    await db?.drop();
  });

  it('kafka_consumer_group_lag: the records a group has not consumed, per topic, back to 0 once it commits them', async () => {
    // A group of the hub's topic usage.limit.crossed.v1 (no app consumes it yet) that committed the topic's end.
    const groupId = `metrics-e2e-lag-${suite}`;
    const end = async () =>
      (await admin.fetchTopicOffsets(Topic.UsageLimitCrossed)).map((p) => ({ partition: p.partition, offset: p.high }));
    await admin.setOffsets({ groupId, topic: Topic.UsageLimitCrossed, partitions: await end() });
    await producer.send({
      topic: Topic.UsageLimitCrossed,
      messages: Array.from({ length: 7 }, (_, n) => ({ key: `cfg-${suite}-${n}`, value: '{}' })),
    });
    const labels = { group: groupId, topic: Topic.UsageLimitCrossed };
    const started = Date.now();
    const text = await until('kafka_consumer_group_lag', labels, 7);
    console.log(`lag of 7 reported ${Date.now() - started} ms after the records were written`);
    assert.equal(series(text, 'metrics_source_up', { source: 'kafka_offsets' }), 1);
    // The gateway's own group is reported too, with nothing left to read once it has caught up.
    assert.notEqual(series(text, 'kafka_consumer_group_lag', { topic: Topic.RunCompleted }), undefined);

    await admin.setOffsets({ groupId, topic: Topic.UsageLimitCrossed, partitions: await end() });
    await until('kafka_consumer_group_lag', labels, 0);
  });

  it('bus_dead_letter_depth counts dead letters, not replay markers; bus_dead_letter_pending drops the replayed one', async () => {
    const initial = await listed(cliEnv);
    const keys = Array.from({ length: 4 }, (_, n) => `poison-${suite}-${n}`);
    await producer.send({ topic: Topic.RunCompleted, messages: keys.map((key) => ({ key, value: 'not json' })) });
    const labels = { topic: COMPLETED_DLQ };
    await until('bus_dead_letter_depth', labels, initial.letters + 4);
    const text = await until('bus_dead_letter_pending', labels, initial.letters - initial.replayed + 4);
    assert.equal(series(text, 'bus_messages_dead_lettered_total', { topic: Topic.RunCompleted }), 4);
    assert.equal(series(text, 'metrics_source_up', { source: 'dead_letters' }), 1);
    assert.equal(series(text, 'bus_dead_letter_depth', { topic: deadLetterTopic(Topic.UsageLimitCrossed) }), 0);

    // Replay one: a marker is appended to the .dlq, and the message (still not JSON) is dead-lettered again.
    const { out } = await listed(cliEnv);
    const row = out.split('\n').find((l) => l.includes(keys[0]));
    assert.ok(row, out);
    const id = row.trim().split(/\s+/)[0];
    const replay = await cli(['dlq:replay', Topic.RunCompleted, `--id=${id}`], cliEnv);
    assert.equal(replay.code, 0, replay.stderr);
    assert.match(replay.stdout, /1 republished/);
    await until('bus_dead_letter_depth', labels, initial.letters + 5);
    const replayed = await until('bus_dead_letter_pending', labels, initial.letters - initial.replayed + 4);
    assert.equal(series(replayed, 'bus_messages_dead_lettered_total', { topic: Topic.RunCompleted }), 5);
    // The same numbers as dlq:list's (which folds the markers in too).
    const now = await listed(cliEnv);
    assert.equal(now.letters, series(replayed, 'bus_dead_letter_depth', labels));
    assert.equal(now.letters - now.replayed, series(replayed, 'bus_dead_letter_pending', labels));
  });

  it('outbox_pending_messages and outbox_oldest_pending_age_seconds: the rows waiting in the outbox table', async () => {
    const written = new Date(Date.now() - 120_000);
    // Not due for an hour: the gateway's flusher leaves them where they are.
    const due = new Date(Date.now() + 3_600_000);
    const rows = Array.from({ length: 3 }, (_, n) => [
      Topic.RunCompleted,
      `outbox-${suite}-${n}`,
      '{}',
      1,
      written,
      due,
    ]);
    await db.dataSource.query(
      `INSERT INTO outbox_messages (topic, message_key, value, attempts, created_at, next_attempt_at) VALUES ${rows
        .map(() => '(?, ?, ?, ?, ?, ?)')
        .join(', ')}`,
      rows.flat(),
    );
    const text = await until('outbox_pending_messages', {}, 3);
    const age = series(text, 'outbox_oldest_pending_age_seconds')!;
    assert.ok(age >= 120 && age < 180, `oldest age ${age} s`);
    assert.equal(series(text, 'metrics_source_up', { source: 'outbox' }), 1);

    await db.dataSource.query('DELETE FROM outbox_messages');
    const empty = await until('outbox_pending_messages', {}, 0);
    assert.equal(series(empty, 'outbox_oldest_pending_age_seconds'), 0);
  });
});
