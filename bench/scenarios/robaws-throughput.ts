import { randomBytes } from 'node:crypto';
import { Topic } from '@sync-hub/contracts';
import { createConnection } from 'mysql2/promise';
import { mapRobawsClient, ROBAWS_CUSTOMER_COLUMNS, RobawsClientRecord } from '../../apps/crm-sync/src';
import { RobawsSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../../test/support/app-process';
import { createTestDatabase, TestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { groupStartingNow, KafkaProbe } from '../../test/support/kafka';
import { tick } from '../../test/support/ticks';
import { figure, Figure, outboxMessages, seconds } from '../stats';

export interface RobawsResult {
  clients: number;
  edits: number;
  /**
   * Scenario 8: a full pull, tick to completed, the simulator's rate limit off and the client unpaced, with the change
   * events off (CHANGE_EVENTS=none): the pull issue 11 defined, judged against 1b as scenario 1 judges its sync.
   */
  pullRowsPerSec: Figure;
  pullSeconds: Figure;
  /** The same pull with its change events on (the default): a `crm.robaws.customer.changed.v1` a client, tick to completed. */
  pullEventsOnRowsPerSec: Figure;
  /** Change events still in the outbox when the events-on pull reported (its end waits for them up to a bound). */
  pullOutboxAtEnd: number;
  pullStats: Record<string, number>;
  /**
   * Beside 1b: the same clients, normalised in advance, written by raw mysql2 multi-row upserts of 500 into
   * robaws_customers (its wider rows and five indexes): the database's own limit for this table.
   */
  tableCeilingRowsPerSec: Figure;
  /** Scenario 9: `edits` local edits pushed at Robaws's real limit (the simulator's bucket on, the client paced). */
  pushSeconds: Figure;
  pushStats: Record<string, number>;
  /** edits / 15 per second: no client can push them faster. */
  pushFloorSeconds: number;
  /** Requests the push made per edit (its PATCHes and the bulk reads of Robaws's current versions). */
  pushRequestsPerEdit: number;
  pushRateLimited: number;
}

const REAL_RATE = 15;

/**
 * Scenarios 8 and 9: the Robaws customer cache. 8: a full pull of `clients` clients from the simulator (its rate limit
 * off, the client unpaced: ROBAWS_REQUESTS_PER_SECOND=0), pages of 100, tick to completed, as rows per second against
 * scenario 1b's raw mysql2 ceiling, once with the change events off (the pull judged) and once on (the default, beside
 * it). 9: `edits` local edits (an email each) pushed as merge-patches at Robaws's real
 * 15/s, burst 20 (the simulator's bucket on, the client paced as in production), against the floor edits / 15 s.
 * crm-sync runs as its own process on Kafka and MariaDB; each repetition starts from an empty table.
 */
export async function robawsThroughput(opts: {
  clients: number;
  edits: number;
  reps: number;
  /** BENCH_PROFILE: the pulling crm-sync writes a CPU profile there. */
  profileDir?: string;
}): Promise<RobawsResult> {
  const robaws = new RobawsSimulator({ seed: 8, clients: opts.clients, rateLimit: { enabled: false } });
  const url = await robaws.start();
  const probe = new KafkaProbe();
  await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
  const db = await createTestDatabase('bench_robaws');
  const env = async (paced: boolean, changeEvents = true): Promise<Record<string, string>> => ({
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    // Every topic crm-sync consumes starts at its end: webhook deliveries an earlier test left on the broker would
    // otherwise be applied during the pull.
    KAFKA_GROUP_ID: await groupStartingNow(`bench-robaws-${randomBytes(4).toString('hex')}`, [
      Topic.CrmRequested,
      Topic.RobawsWebhookReceived,
    ]),
    DATABASE_URL: db.url,
    ROBAWS_URL: url,
    ROBAWS_API_KEY: robaws.apiKey,
    ROBAWS_API_SECRET: robaws.apiSecret,
    ROBAWS_PAGE_SIZE: '100',
    ROBAWS_REQUESTS_PER_SECOND: paced ? String(REAL_RATE) : '0',
    CHANGE_EVENTS: changeEvents ? 'all' : 'none',
    LOG_LEVEL: 'warn',
  });
  const run = async (job: string): Promise<{ seconds: number; stats: Record<string, number> }> => {
    const t = tick('crm', job);
    const start = process.hrtime.bigint();
    await probe.produce(Topic.CrmRequested, t.key, t.value);
    const end = await probe.waitForRunEnd(t.value.runId!, 30 * 60000);
    if (end.topic !== Topic.RunCompleted) throw new Error(`benchmark run ended ${end.topic}: ${end.value}`);
    const payload = (end.json as { payload?: { stats?: Record<string, number> } } | null)?.payload;
    return { seconds: seconds(start), stats: payload?.stats ?? {} };
  };

  const pulls: number[] = [];
  const pullsEventsOff: number[] = [];
  let pullOutboxAtEnd = 0;
  const pushes: number[] = [];
  let pullStats: Record<string, number> = {};
  let pushStats: Record<string, number> = {};
  let pushRequests = 0;
  let pushRateLimited = 0;
  let tableCeiling: number[];
  // One process at a time, each in a group of its own starting at the end of the topic: the unpaced one pulls, the
  // paced one (as in production) pushes.
  let app: AppProcess | null = null;
  try {
    /** One full pull into the emptied table by a fresh unpaced crm-sync, with its change events on or off. */
    const pullOnce = async (changeEvents: boolean, nodeArgs: string[] = []) => {
      await empty(db);
      robaws.setRateLimit({ enabled: false });
      app = await startAppProcess(
        'crm-sync',
        await env(false, changeEvents),
        changeEvents ? 'bench-robaws-unpaced' : 'bench-robaws-unpaced-events-off',
        nodeArgs,
      );
      const pull = await run('robaws.customers.full');
      const outboxAtEnd = await outboxMessages(db.dataSource);
      await app.stop();
      app = null;
      return { ...pull, outboxAtEnd };
    };
    for (let rep = 0; rep < opts.reps; rep++) {
      // The change events' cost: the same pull with them off, first in every other repetition (as scenario 1 does).
      if (rep % 2 === 1) pullsEventsOff.push((await pullOnce(false)).seconds);
      const pull = await pullOnce(true, opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []);
      if (rep % 2 === 0) pullsEventsOff.push((await pullOnce(false)).seconds);
      pulls.push(pull.seconds);
      pullStats = pull.stats;
      pullOutboxAtEnd = Math.max(pullOutboxAtEnd, pull.outboxAtEnd);

      await editEmails(db, opts.edits, rep);
      robaws.setRateLimit({ enabled: true });
      app = await startAppProcess('crm-sync', await env(true), 'bench-robaws-paced');
      // A full bucket, as after a quiet minute.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const requests = robaws.counters.requests;
      const limited = robaws.counters.rateLimited;
      const push = await run('robaws.customers.push');
      await app.stop();
      app = null;
      pushes.push(push.seconds);
      pushStats = push.stats;
      pushRequests = robaws.counters.requests - requests;
      pushRateLimited = robaws.counters.rateLimited - limited;
      if (push.stats.pushed !== opts.edits)
        throw new Error(`push sent ${push.stats.pushed} of ${opts.edits} edits: ${JSON.stringify(push.stats)}`);
    }
    tableCeiling = await rawUpserts(db, robaws, opts.reps);
  } finally {
    await app?.stop();
    await probe.close();
    await robaws.stop();
    await db.drop();
  }
  return {
    clients: opts.clients,
    edits: opts.edits,
    pullRowsPerSec: figure(
      pullsEventsOff.map((s) => opts.clients / s),
      'rows/s',
    ),
    pullSeconds: figure(pullsEventsOff, 's'),
    pullEventsOnRowsPerSec: figure(
      pulls.map((s) => opts.clients / s),
      'rows/s',
    ),
    pullOutboxAtEnd,
    tableCeilingRowsPerSec: figure(tableCeiling, 'rows/s'),
    pullStats,
    pushSeconds: figure(pushes, 's'),
    pushStats,
    pushFloorSeconds: opts.edits / REAL_RATE,
    pushRequestsPerEdit: pushRequests / opts.edits,
    pushRateLimited,
  };
}

const COLUMNS = ['robaws_id', ...ROBAWS_CUSTOMER_COLUMNS];

/** The table's ceiling: the simulator's clients, mapped beforehand, by raw mysql2 upserts of 500 into an empty table. */
async function rawUpserts(db: TestDatabase, robaws: RobawsSimulator, reps: number): Promise<number[]> {
  const syncedAt = new Date();
  const rows = robaws.clients().map((c) => {
    const f = mapRobawsClient(c as unknown as RobawsClientRecord, 'BE').fields;
    return [
      Number(f.robawsId),
      f.name,
      f.role,
      f.email,
      f.tel,
      f.gsm,
      f.phone,
      f.website,
      f.addressLine1,
      f.addressLine2,
      f.postalCode,
      f.city,
      f.country,
      f.vatNumber,
      f.vatValid,
      f.currency,
      f.language,
      f.isActive,
      JSON.stringify(f.metadata),
      f.contentHash,
      f.upstreamUpdatedAt,
      syncedAt,
      false,
    ];
  });
  const update = COLUMNS.slice(1)
    .map((c) => `${c} = VALUES(${c})`)
    .join(', ');
  const conn = await createConnection(db.url);
  const out: number[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      await empty(db);
      const start = process.hrtime.bigint();
      for (let i = 0; i < rows.length; i += 500)
        await conn.query(
          `INSERT INTO robaws_customers (${COLUMNS.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ${update}`,
          [rows.slice(i, i + 500)],
        );
      out.push(rows.length / seconds(start));
    }
  } finally {
    await conn.end();
  }
  return out;
}

async function empty(db: TestDatabase): Promise<void> {
  await db.dataSource.query('DELETE FROM robaws_customers');
  await db.dataSource.query('DELETE FROM sync_cursors');
}

/** Local edits as PATCH /api/crm/customers/:id makes them: a new email on the first `count` customers. */
async function editEmails(db: TestDatabase, count: number, rep: number): Promise<void> {
  const rows: Array<{ robaws_id: number; email: string | null; upstream_updated_at: Date | null }> =
    await db.dataSource.query(
      'SELECT robaws_id, email, upstream_updated_at FROM robaws_customers ORDER BY robaws_id LIMIT ?',
      [count],
    );
  const editedAt = new Date().toISOString();
  await db.dataSource.transaction(async (manager) => {
    for (const row of rows) {
      // New in each repetition: Robaws holds the previous one's, and an edit it already holds is not sent.
      const email = `edited-${rep}-${row.robaws_id}@bench.example`;
      const edit = {
        fields: { email },
        base: { email: row.email },
        baseUpdatedAt: row.upstream_updated_at ? new Date(row.upstream_updated_at).toISOString() : null,
        editedAt,
      };
      await manager.query('UPDATE robaws_customers SET email = ?, local_dirty = ? WHERE robaws_id = ?', [
        email,
        JSON.stringify(edit),
        row.robaws_id,
      ]);
    }
  });
}
