import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  CP_EXPORT,
  deadLetterTopic,
  LOYALTY_CHANGE_TOPICS,
  LoyaltyRowChangedPayload,
  parseEnvelope,
  Topic,
} from '@sync-hub/contracts';
import { CpExportSimulator, CpRow, CpTable } from '@sync-hub/simulators';
import { CP_TABLE_SPECS, CpTableSpec } from '../../apps/crm-sync/src';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

/** The table of tables: source, primary key, destination. */
const TABLES: Array<[CpTable, string, string]> = [
  ['client', 'client_id', 'clients'],
  ['client_abonnement', 'client_abonnement_id', 'client_abonnements'],
  ['history', 'history_id', 'histories'],
  ['promotion_pass_orders', 'id', 'promotion_pass_orders'],
  ['promotion_pass_vendu', 'id', 'promotion_pass_vendus'],
  ['partner', 'partner_id', 'partners'],
  ['promotion', 'promotion_id', 'promotions'],
];
const ROWS: Record<CpTable, number> = {
  client: 260,
  client_abonnement: 180,
  history: 300,
  promotion_pass_orders: 150,
  promotion_pass_vendu: 220,
  partner: 150,
  promotion: 210,
};
const LIMIT = 100;
/** Every 41st id is missing upstream, as auto-increment ids have gaps: a cursor is an id, not a count. */
const GAP_EVERY = 41;
const RETRY_ATTEMPTS = 3;
const LEASE = 'job:1:crm:cp.tables';
const RUN_ENDS: string[] = [Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];
const DEAD_LETTERED = deadLetterTopic(Topic.CrmRequested);
/** The change-event topic of each table (`crm.loyalty.<destination>.changed.v1`). */
const CHANGE_TOPICS = TABLES.map(([, , destination]) => LOYALTY_CHANGE_TOPICS[destination]);

const specOf = (table: CpTable): CpTableSpec => CP_TABLE_SPECS.find((s) => s.source === table)!;
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const rounds = (rows: number): number => Math.ceil(rows / LIMIT);

/** A declared column as SQL that reads back in the contract's own JSON form (dates as text, amounts as text). */
function readable(column: string, type: string): string {
  switch (type) {
    case 'date':
      return `DATE_FORMAT(\`${column}\`, '%Y-%m-%d')`;
    case 'datetime':
      return `DATE_FORMAT(\`${column}\`, '%Y-%m-%d %H:%i:%s.%f')`;
    case 'decimal':
      return `CAST(\`${column}\` AS CHAR)`;
    default:
      return `\`${column}\``;
  }
}

describe('crm-sync: the loyalty-club export (real Kafka, MariaDB, the export simulator over HTTP)', () => {
  let db: TestDatabase;
  let sim: CpExportSimulator;
  let app: AppProcess;
  let env: Record<string, string>;
  /** The consumer group of the processes started after the SIGKILL. */
  let afterKillGroup: string;
  const logFiles: string[] = [];
  const badToken = `wrong-cp-token-${randomBytes(6).toString('hex')}`;
  const probe = new KafkaProbe();
  /** The rows served malformed, by table and id. */
  const refused: Array<[CpTable, number]> = [];

  const start = async (overrides: Record<string, string> = {}): Promise<AppProcess> => {
    const started = await startAppProcess(
      'crm-sync',
      { ...env, ...overrides },
      `crm-sync-cp-e2e-${logFiles.length + 1}`,
    );
    logFiles.push(started.logFile);
    return started;
  };
  const restart = async (overrides: Record<string, string> = {}): Promise<void> => {
    await app.stop();
    app = await start(overrides);
  };
  const send = async (job: string, params?: Record<string, unknown>): Promise<string> => {
    const t = tick('crm', job, params ? { params } : {});
    await probe.produce(Topic.CrmRequested, t.key, t.value);
    return t.value.runId!;
  };
  /** The run's end event; a tick the app dead-lettered instead (a job it does not accept) fails at once. */
  const runEnd = async (runId: string, timeoutMs = 60000) => {
    const end = await eventually(
      () => probe.seen.find((m) => [...RUN_ENDS, DEAD_LETTERED].includes(m.topic) && m.json?.payload?.runId === runId),
      `the end of run ${runId}`,
      timeoutMs,
      50,
    );
    assert.notEqual(end.topic, DEAD_LETTERED, `the tick was dead-lettered: ${end.headers.error}`);
    return end;
  };
  const run = async (job: string, params?: Record<string, unknown>) => {
    const runId = await send(job, params);
    const end = await runEnd(runId);
    return { runId, end, stats: end.json.payload.stats, error: end.json.payload.error };
  };
  const counted = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await db.dataSource.query(sql, params))[0].n);
  const storedCount = (table: CpTable): Promise<number> =>
    counted(`SELECT COUNT(*) AS n FROM \`${specOf(table).destination}\``);
  const maxStoredId = (table: CpTable): Promise<number> =>
    counted(`SELECT COALESCE(MAX(\`${specOf(table).primaryKey}\`), 0) AS n FROM \`${specOf(table).destination}\``);
  const storedIds = async (table: CpTable): Promise<number[]> => {
    const { primaryKey, destination } = specOf(table);
    const rows: Array<{ id: number }> = await db.dataSource.query(
      `SELECT \`${primaryKey}\` AS id FROM \`${destination}\` ORDER BY \`${primaryKey}\``,
    );
    return rows.map((r) => Number(r.id));
  };
  /** Every `cp.*` row of sync_cursors, as stored. */
  const cursorRows = (): Promise<Array<{ stream: string; position: string; synced_at: Date }>> =>
    db.dataSource.query(
      "SELECT stream, position, synced_at FROM sync_cursors WHERE stream LIKE 'cp.%' ORDER BY stream",
    );
  const exportCursors = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const row of await cursorRows())
      if (!row.stream.startsWith('cp.reconcile.')) out[row.stream] = Number(row.position);
    return out;
  };
  const totalStored = async (): Promise<number> => sum(await Promise.all(TABLES.map(([t]) => storedCount(t))));
  const logs = (): string => logFiles.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  /** A run's change events of one table as read back from the broker, each validated against the contract. */
  const changesOf = (table: CpTable, runId: string) =>
    probe.forRun(LOYALTY_CHANGE_TOPICS[specOf(table).destination], runId).map((m) => ({
      key: m.key,
      change: parseEnvelope(m.json, LoyaltyRowChangedPayload).payload,
    }));
  /** A run's change events of every table, once `count` of them have arrived (a few ms after the run's end). */
  const allChanges = async (runId: string, count: number) => {
    const arrived = () => sum(CHANGE_TOPICS.map((t) => probe.forRun(t, runId).length));
    await eventually(() => (arrived() >= count ? true : undefined), `${count} change events of run ${runId}`, 30000);
    return Object.fromEntries(TABLES.map(([table]) => [table, changesOf(table, runId)])) as Record<
      CpTable,
      ReturnType<typeof changesOf>
    >;
  };

  /** Every stored row of every table equals the simulator's: key set, typed columns, the whole row in source_row. */
  const assertMirrors = async (): Promise<void> => {
    for (const [table] of TABLES) {
      const spec = specOf(table);
      const select = [
        `\`${spec.primaryKey}\` AS __id`,
        ...spec.columns.map((c) => `${readable(c.name, c.type)} AS \`${c.name}\``),
        'source_row',
        ...(spec.hasUpdatedAt ? [`${readable('source_updated_at', 'datetime')} AS source_updated_at`] : []),
      ];
      const stored: Array<Record<string, unknown>> = await db.dataSource.query(
        `SELECT ${select.join(', ')} FROM \`${spec.destination}\` ORDER BY \`${spec.primaryKey}\``,
      );
      const expected = sim.rows(table);
      assert.deepEqual(
        stored.map((r) => Number(r.__id)),
        expected.map((r) => r[spec.primaryKey]),
        `${table}: the stored keys are the simulator's`,
      );
      stored.forEach((row, i) => {
        const source: CpRow = expected[i];
        const what = `${table} ${String(source[spec.primaryKey])}`;
        assert.deepEqual(JSON.parse(row.source_row as string), source, `${what}: source_row is the whole row`);
        for (const column of spec.columns) {
          const want = source[column.name];
          const got = row[column.name];
          if (want === null) assert.equal(got, null, `${what}.${column.name}`);
          else if (column.type === 'datetime') assert.equal(got, `${want as string}.000000`, `${what}.${column.name}`);
          else if (['int', 'flag'].includes(column.type)) assert.equal(Number(got), want, `${what}.${column.name}`);
          else assert.equal(got, want, `${what}.${column.name}`);
        }
        if (spec.hasUpdatedAt)
          assert.equal(row.source_updated_at, `${String(source.updated_at)}.000000`, `${what}.source_updated_at`);
      });
    }
  };

  /** Each export cursor is its table's highest stored id, and (when `upToDate`) the simulator's highest id. */
  const assertCursorsAtMaxStored = async (upToDate: boolean): Promise<void> => {
    const cursors = await exportCursors();
    for (const [table] of TABLES) {
      const stored = await maxStoredId(table);
      assert.equal(cursors[`cp.${table}`], stored, `cp.${table} is the last stored id`);
      if (upToDate) assert.equal(stored, sim.maxId(table), `${table}: up to the simulator's last id`);
    }
  };

  before(async () => {
    db = await createTestDatabase('crm_cp_export');
    sim = new CpExportSimulator({
      seed: 7,
      rows: ROWS,
      gapEvery: GAP_EVERY,
      token: `cp-e2e-token-${randomBytes(8).toString('hex')}`,
    });
    await sim.start();
    // Their own groups from now on: other suites' crm ticks on the shared broker are not run here.
    const topics = [Topic.CrmRequested, Topic.RobawsWebhookReceived];
    let firstGroup: string;
    [firstGroup, afterKillGroup] = await Promise.all([
      freshGroup('crm-cp', topics),
      freshGroup('crm-cp-after-kill', topics),
    ]);
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      KAFKA_GROUP_ID: firstGroup,
      DATABASE_URL: db.url,
      CP_EXPORT_URL: sim.exportUrl,
      CP_VISIT_URL: sim.visitUrl,
      CP_EXPORT_TOKEN: sim.token,
      CP_EXPORT_BATCH_LIMIT: String(LIMIT),
      CP_EXPORT_RETRY_ATTEMPTS: String(RETRY_ATTEMPTS),
      CP_EXPORT_RETRY_DELAY: '1',
      CP_EXPORT_TIMEOUT: '10',
    };
    app = await start();
    await probe.watch([Topic.RunStarted, ...RUN_ENDS, DEAD_LETTERED, ...CHANGE_TOPICS]);
  });

  after(async () => {
    await app?.stop();
    await probe.close();
    await sim?.stop();
    await db?.drop();
  });

  it('the table specs are the issue’s seven tables: source, primary key, destination', () => {
    assert.deepEqual(
      CP_TABLE_SPECS.map((s) => [s.source, s.primaryKey, s.destination]),
      TABLES,
    );
  });

  it('the initial load stores the seven tables exactly as the simulator has them, in rounds of CP_EXPORT_BATCH_LIMIT', async () => {
    const { runId, end, stats } = await run('cp.export');
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const total = sum(Object.values(ROWS));
    assert.deepEqual(
      [stats.fetched, stats.created, stats.updated, stats.unchanged, stats.failed, stats.tablesWithMore],
      [total, total, 0, 0, 0, 0],
    );
    assert.equal(stats.rounds, rounds(Math.max(...Object.values(ROWS))), 'as many rounds as the largest table needs');
    assert.equal(sim.counters.exports, stats.rounds, 'one request a round');
    for (const [table] of TABLES)
      assert.deepEqual(
        stats.tables[table],
        { fetched: ROWS[table], created: ROWS[table], updated: 0, unchanged: 0, failed: 0 },
        `stats of ${table}`,
      );
    for (const [table] of TABLES) {
      assert.equal(sim.count(table), ROWS[table]);
      assert.ok(sim.maxId(table) > ROWS[table], `${table}'s ids have gaps`);
    }
    await assertMirrors();
    await assertCursorsAtMaxStored(true);

    // Read back from the broker: one created event per stored row, on its table's topic, keyed by its primary key.
    const changes = await allChanges(runId, sum(Object.values(ROWS)));
    for (const [table, primaryKey, destination] of TABLES) {
      const served = sim.rows(table);
      const events = changes[table];
      assert.equal(events.length, ROWS[table], `${table}: one event per row`);
      assert.deepEqual(
        events.map((e) => e.key).sort(),
        served.map((r) => String(r[primaryKey])).sort(),
        `${table}: keyed by ${primaryKey}`,
      );
      const byId = new Map(served.map((r) => [String(r[primaryKey]), r]));
      for (const { key, change } of events) {
        assert.deepEqual(
          [change.changeType, change.id, change.table, change.runId],
          ['created', key, destination, runId],
          `${table} ${key}`,
        );
        assert.deepEqual(change.record, byId.get(key!), `${table} ${key}: the row as the export answered it`);
        assert.deepEqual(change.changedFields, Object.keys(byId.get(key!)!), `${table} ${key}: every column`);
      }
    }
  });

  it('an incremental run fetches only the appended rows and moves each cursor to its last stored id', async () => {
    const before = await exportCursors();
    const appended: Partial<Record<CpTable, number>> = { client: 12, history: 45, promotion: 3 };
    for (const [table, n] of Object.entries(appended)) sim.append(table as CpTable, n);
    const { end, stats } = await run('cp.export');
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.deepEqual(
      [stats.fetched, stats.created, stats.updated, stats.unchanged, stats.failed, stats.rounds],
      [60, 60, 0, 0, 0, 1],
    );
    for (const [table] of TABLES) {
      const n = appended[table] ?? 0;
      assert.deepEqual(stats.tables[table], { fetched: n, created: n, updated: 0, unchanged: 0, failed: 0 }, table);
    }
    const after = await exportCursors();
    for (const [table] of TABLES) {
      if (appended[table]) assert.ok(after[`cp.${table}`] > before[`cp.${table}`], `cp.${table} moved`);
      else assert.equal(after[`cp.${table}`], before[`cp.${table}`], `cp.${table} stays`);
    }
    await assertMirrors();
    await assertCursorsAtMaxStored(true);

    const idle = await run('cp.export');
    assert.deepEqual([idle.stats.fetched, idle.stats.created, idle.stats.rounds], [0, 0, 1], 'nothing new');
    assert.deepEqual(await exportCursors(), after);
    assert.deepEqual(
      CHANGE_TOPICS.map((t) => probe.forRun(t, idle.runId).length),
      CHANGE_TOPICS.map(() => 0),
      'nothing new, no change event',
    );
  });

  it('a 5xx on the first attempts is retried after CP_EXPORT_RETRY_DELAY and the run completes; exhausted attempts fail it as retriable', async () => {
    sim.append('partner', 5);
    const faulted = sim.counters.faulted;
    const exports = sim.counters.exports;
    sim.setFaults({ errorRate: 1, errorStatus: 503 });
    const runId = await send('cp.export');
    // Two 503s, then the upstream recovers before the third (and last) attempt.
    await eventually(() => (sim.counters.faulted - faulted >= 2 ? true : undefined), 'two 503 answers', 20000, 5);
    sim.resetFaults();
    const end = await runEnd(runId);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const { stats, startedAt, finishedAt } = end.json.payload;
    assert.deepEqual([stats.fetched, stats.created, stats.tables.partner.created], [5, 5, 5]);
    assert.equal(sim.counters.faulted - faulted, 2);
    assert.equal(sim.counters.exports - exports, 1, 'the third attempt answered the round');
    // Backoff from 1 s with jitter: at least 0.5 s before the second attempt and 1 s before the third.
    assert.ok(Date.parse(finishedAt) - Date.parse(startedAt) >= 1500, 'the retries waited');

    sim.setFaults({ errorRate: 1, errorStatus: 500 });
    const failed = await run('cp.export');
    sim.resetFaults();
    assert.equal(failed.end.topic, Topic.RunFailed, failed.end.value);
    assert.equal(failed.error.origin, 'source');
    assert.equal(failed.error.retriable, true);
    assert.equal(
      sim.counters.faulted - faulted - 2,
      RETRY_ATTEMPTS * (CP_EXPORT.retries + 1),
      'CP_EXPORT_RETRY_ATTEMPTS attempts in each of the job’s tries',
    );
    await assertCursorsAtMaxStored(true);
  });

  it('the visit job calls the sync-visit link once', async () => {
    const visits = sim.counters.visits;
    const requests = sim.counters.requests;
    const { end } = await run('cp.visit');
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.equal(sim.counters.visits - visits, 1);
    assert.equal(sim.counters.requests - requests, 1);
    assert.ok(sim.lastVisitAt);
  });

  it('SIGKILL in the middle of a drain: after a restart the next run stores the rest, none missing, none twice', async () => {
    const appended = Object.fromEntries(TABLES.map(([table]) => [table, sim.append(table, 400)])) as Record<
      CpTable,
      CpRow[]
    >;
    const target = sum(TABLES.map(([t]) => sim.count(t)));
    const before = await totalStored();
    sim.setFaults({ latencyMs: 250 });
    const killedRun = await send('cp.export');
    await eventually(
      async () => {
        const stored = await totalStored();
        return stored >= before + LIMIT && stored < target - 2 * LIMIT ? stored : undefined;
      },
      'some rounds of the drain to be stored',
      30000,
      20,
    );
    app.child.kill('SIGKILL');
    await app.stop();
    sim.resetFaults();
    const stored = await totalStored();
    assert.ok(stored > before && stored < target, `killed mid-drain (${stored - before} of ${target - before} stored)`);
    // Each table's rows of a round commit with its cursor: even killed, every cursor is its last stored id.
    await assertCursorsAtMaxStored(false);

    // The killed run's lease and claim are let go (issue 14 will record the kill), so a new run may start at once.
    await db.dataSource.query("UPDATE job_leases SET expires_at = '2000-01-01 00:00:00' WHERE name = ?", [LEASE]);
    await db.dataSource.query("UPDATE run_claims SET status = 'failed' WHERE run_id = ?", [killedRun]);
    // The second consumer group from here on: in the first, the killed member would hold its partitions until its
    // session times out (30 s). This group starts where the suite did, so the new process reads this suite's earlier
    // ticks again and ignores them: their runs are finished.
    env.KAFKA_GROUP_ID = afterKillGroup;
    app = await start();
    const { runId, end, stats } = await run('cp.export');
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.deepEqual(
      [stats.fetched, stats.created, stats.updated, stats.unchanged, stats.failed],
      [target - stored, target - stored, 0, 0, 0],
      'exactly the rows the killed run had not stored',
    );
    // The rounds the killed run committed had their events committed with them: the new process's outbox flush sends
    // those it had not, so every appended row has its created event, from one run or the other. A row sent twice (the
    // kill fell between a send and its outbox delete) carries the same record: harmless on a compacted topic.
    const events = (table: CpTable) => [...changesOf(table, killedRun), ...changesOf(table, runId)];
    await eventually(
      () =>
        TABLES.every(([table]) => new Set(events(table).map((e) => e.key)).size === appended[table].length)
          ? true
          : undefined,
      'a created event for every row of the killed drain',
      30000,
    );
    for (const [table, primaryKey] of TABLES) {
      const rows = new Map(appended[table].map((r) => [String(r[primaryKey]), r]));
      for (const { key, change } of events(table)) {
        assert.equal(change.changeType, 'created', `${table} ${key}`);
        assert.deepEqual(change.record, rows.get(key!), `${table} ${key}: one of the appended rows, as served`);
      }
    }
    for (const [table] of TABLES) {
      const { primaryKey, destination } = specOf(table);
      const [row] = await db.dataSource.query(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT \`${primaryKey}\`) AS d FROM \`${destination}\``,
      );
      assert.deepEqual([Number(row.n), Number(row.d)], [sim.count(table), sim.count(table)], table);
    }
    await assertMirrors();
    await assertCursorsAtMaxStored(true);
  });

  it('CP_EXPORT_MAX_LOOPS: a run stops after that many rounds with tables left, and the next run goes on', async () => {
    await restart({ CP_EXPORT_MAX_LOOPS: '2' });
    const clients = sim.append('client', 350);
    sim.append('history', 120);
    const first = await run('cp.export');
    assert.equal(first.end.topic, Topic.RunCompleted, first.end.value);
    assert.deepEqual(
      [first.stats.rounds, first.stats.tablesWithMore, first.stats.fetched, first.stats.created],
      [2, 1, 2 * LIMIT + 120, 2 * LIMIT + 120],
    );
    assert.equal(first.stats.tables.client.fetched, 2 * LIMIT);
    assert.equal(first.stats.tables.history.fetched, 120);
    const cursors = await exportCursors();
    assert.equal(cursors['cp.client'], clients[2 * LIMIT - 1].client_id, 'at the last client stored');
    assert.equal(cursors['cp.history'], sim.maxId('history'));
    await eventually(
      () => (/stopped after 2 round\(s\) with rows left in client\b/.test(logs()) ? true : undefined),
      'the log line of the stop',
      5000,
    );

    const second = await run('cp.export');
    assert.equal(second.end.topic, Topic.RunCompleted, second.end.value);
    assert.deepEqual(
      [second.stats.rounds, second.stats.tablesWithMore, second.stats.fetched, second.stats.tables.client.created],
      [2, 0, 150, 150],
    );
    await assertMirrors();
    await assertCursorsAtMaxStored(true);
  });

  it('a malformed row is counted failed (per table and in total) and logged with its table and position; the rest are stored', async () => {
    const clients = sim.append('client', 10);
    const promotions = sim.append('promotion', 10);
    const noKey = clients[3].client_id as number;
    const badType = promotions[6].promotion_id as number;
    sim.corrupt('client', noKey, 'missing_pk');
    sim.corrupt('promotion', badType, 'bad_type');
    refused.push(['client', noKey], ['promotion', badType]);
    const { end, stats } = await run('cp.export');
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.deepEqual([stats.fetched, stats.created, stats.failed], [20, 18, 2]);
    for (const table of ['client', 'promotion'] as const)
      assert.deepEqual(stats.tables[table], { fetched: 10, created: 9, updated: 0, unchanged: 0, failed: 1 }, table);
    const clientIds = await storedIds('client');
    const promotionIds = await storedIds('promotion');
    assert.ok(!clientIds.includes(noKey) && !promotionIds.includes(badType), 'the malformed rows are not stored');
    for (const row of clients.filter((r) => r.client_id !== noKey))
      assert.ok(clientIds.includes(row.client_id as number), `client ${String(row.client_id)} stored`);
    for (const row of promotions.filter((r) => r.promotion_id !== badType))
      assert.ok(promotionIds.includes(row.promotion_id as number), `promotion ${String(row.promotion_id)} stored`);
    const cursors = await exportCursors();
    assert.equal(cursors['cp.client'], sim.maxId('client'), 'past the refused row');
    assert.equal(cursors['cp.promotion'], sim.maxId('promotion'));
    await eventually(
      () => (/cp: client row 4 of 10\b.*refused/.test(logs()) ? true : undefined),
      'the log line of the client row',
      5000,
    );
    assert.match(logs(), /cp: client row 4 of 10\b[^\n]*refused[^\n]*client_id/);
    assert.match(logs(), /cp: promotion row 7 of 10\b[^\n]*refused[^\n]*reduction_pct/);
  });

  it('the reconcile refreshes updated old rows without moving the export cursors, and leaves no cursor of its own', async () => {
    // The rows the export refused are served whole again: the reconcile creates them.
    for (const [table, id] of refused) sim.repair(table, id);
    sim.update('client', 1);
    sim.update('history', 2);
    sim.update('promotion_pass_vendu', 3, { utilise: 1, date_utilisation: '2025-07-01 10:00:00' });
    sim.updateRandom('partner', 2);
    const storedClient = async () =>
      JSON.parse((await db.dataSource.query('SELECT source_row FROM clients WHERE client_id = 1'))[0].source_row);
    // An id watermark never sees an update to an old row: the export reads nothing.
    const blind = await run('cp.export');
    assert.deepEqual([blind.stats.fetched, blind.stats.updated], [0, 0]);
    assert.notDeepEqual(await storedClient(), sim.row('client', 1), 'client 1 is stale');
    const storedPass = async (): Promise<CpRow> =>
      JSON.parse(
        (await db.dataSource.query('SELECT source_row FROM promotion_pass_vendus WHERE id = 3'))[0].source_row,
      );
    const staleClient = await storedClient();
    const stalePass = await storedPass();
    const before = await cursorRows();
    const { runId, end, stats } = await run('cp.reconcile');
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    const total = sum(TABLES.map(([t]) => sim.count(t)));
    assert.deepEqual(
      [stats.fetched, stats.created, stats.updated, stats.unchanged, stats.failed, stats.tablesWithMore],
      [total, 2, 5, total - 7, 0, 0],
      'the two repaired rows the export had refused are created; the five updated rows refreshed',
    );
    assert.equal(stats.rounds, rounds(Math.max(...TABLES.map(([t]) => sim.count(t)))));
    assert.deepEqual(stats.tables.partner, {
      fetched: sim.count('partner'),
      created: 0,
      updated: 2,
      unchanged: sim.count('partner') - 2,
      failed: 0,
    });
    const cursors = await cursorRows();
    assert.deepEqual(cursors, before, 'the export cursors are untouched (position and synced_at)');
    assert.ok(!cursors.some((c) => c.stream.startsWith('cp.reconcile.')), 'no reconcile cursor is left');
    assert.deepEqual(await storedClient(), sim.row('client', 1), 'client 1 refreshed');
    await assertMirrors();

    // Seven events: the five updated rows and the two created; the thousands of unchanged rows send none.
    const changes = await allChanges(runId, 7);
    assert.equal(sum(Object.values(changes).map((c) => c.length)), 7);
    /** The columns of the row as served now whose values differ from the row stored before the reconcile. */
    const differing = (fresh: CpRow, stale: CpRow): string[] =>
      Object.keys(fresh).filter((k) => JSON.stringify(fresh[k]) !== JSON.stringify(stale[k]));
    const client = changes.client.find((c) => c.key === '1')!;
    const fresh = sim.row('client', 1)!;
    assert.equal(client.change.changeType, 'updated');
    assert.deepEqual(client.change.changedFields, differing(fresh, staleClient), 'the columns that changed');
    assert.ok(client.change.changedFields.includes('updated_at'));
    assert.deepEqual(client.change.record, fresh);
    const [pass] = changes.promotion_pass_vendu;
    assert.deepEqual([pass.key, pass.change.changeType], ['3', 'updated']);
    assert.deepEqual(pass.change.changedFields, differing(sim.row('promotion_pass_vendu', 3)!, stalePass));
    assert.ok(['date_utilisation', 'updated_at'].every((f) => pass.change.changedFields.includes(f)));
    assert.deepEqual(
      changes.history.map((c) => [c.key, c.change.changeType, c.change.changedFields]),
      [['2', 'updated', ['description']]],
      'a history row corrected upstream is sent as updated, as any table’s',
    );
    assert.deepEqual(
      changes.partner.map((c) => c.change.changeType),
      ['updated', 'updated'],
    );
    for (const [table, id] of refused)
      assert.deepEqual(
        changes[table].filter((c) => c.key === String(id)).map((c) => c.change.changeType),
        ['created'],
        `${table} ${id}, refused by the export, is created by the reconcile`,
      );
  });

  it('a refused token fails the export and the visit as config errors naming CP_EXPORT_TOKEN and Bearer, with no retry', async () => {
    await restart({ CP_EXPORT_TOKEN: badToken });
    const before = await cursorRows();
    const { requests, unauthorized, exports } = sim.counters;
    const { end, error } = await run('cp.export');
    assert.equal(end.topic, Topic.RunFailed, end.value);
    assert.deepEqual([error.origin, error.code, error.retriable], ['config', 'UPSTREAM_AUTH_REJECTED', false]);
    assert.match(error.message, /CP_EXPORT_TOKEN/);
    assert.match(error.message, /Bearer/);
    assert.equal(sim.counters.requests - requests, 1, 'one export request: a 401 is never retried');
    assert.equal(sim.counters.unauthorized - unauthorized, 1);
    assert.equal(sim.counters.exports, exports);
    assert.deepEqual(await cursorRows(), before, 'nothing moved');

    const visit = await run('cp.visit');
    assert.equal(visit.end.topic, Topic.RunFailed, visit.end.value);
    assert.deepEqual([visit.error.origin, visit.error.retriable], ['config', false]);
    assert.equal(sim.counters.requests - requests, 2, 'one visit request');
    for (const message of probe.seen) {
      assert.ok(!message.value.includes(badToken), `the refused token in ${message.topic}`);
      assert.ok(!message.value.includes(sim.token), `the token in ${message.topic}`);
    }
  });

  it('the token never appears in the log output of any crm-sync process', async () => {
    await app.stop();
    const output = logs();
    assert.equal(logFiles.length, 4, 'the first process, after the kill, with CP_EXPORT_MAX_LOOPS, with a bad token');
    // The paths where a token could leak were taken: a refused token, retried 5xx answers.
    assert.match(output, /UPSTREAM_AUTH_REJECTED/);
    assert.match(output, /retrying in \d+ ms/);
    assert.ok(!output.includes(sim.token), 'the token is in a log');
    assert.ok(!output.includes(badToken), 'the refused token is in a log');
  });
});
