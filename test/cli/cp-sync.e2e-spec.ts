import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CP_EXPORT, LoyaltyRowChangedPayload, parseEnvelope, Topic } from '@sync-hub/contracts';
import { jobLeaseName } from '@sync-hub/runs';
import { CP_TABLES, CpExportSimulator, CpTable } from '@sync-hub/simulators';
import { cli } from '../support/cli';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe } from '../support/kafka';
import { eventually } from '../support/wait';

const ROWS = 120;
const LIMIT = 50;
const TOKEN = 'cp-cli-test-token-5f81c2d9';
const BAD_TOKEN = 'not-the-club-token-93b7';
const EMBEDDED_TOKEN = new CpExportSimulator().token;
/** Each table's destination, as issue 12 names them. */
const DESTINATIONS: Record<CpTable, string> = {
  client: 'clients',
  client_abonnement: 'client_abonnements',
  history: 'histories',
  promotion_pass_orders: 'promotion_pass_orders',
  promotion_pass_vendu: 'promotion_pass_vendus',
  partner: 'partners',
  promotion: 'promotions',
};

/** A table's line of a stats table: its counts by column (`client  50  50  0  0  0`). */
function counts(stdout: string, table: string): Record<string, number> {
  const m = new RegExp(`^${table}\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)$`, 'm').exec(stdout);
  assert.ok(m, `no ${table} line in:\n${stdout}`);
  const [fetched, created, updated, unchanged, failed] = m.slice(1).map(Number);
  return { fetched, created, updated, unchanged, failed };
}

/** --state's line of a table: destination, last inserted id, last synced at, rows stored. */
function stateOf(
  stdout: string,
  table: string,
): { destination: string; lastId: number; syncedAt: string; rows: number } {
  const m = new RegExp(`^${table}\\s+(\\S+)\\s+(\\d+)\\s+(\\S+)\\s+(\\d+)$`, 'm').exec(stdout);
  assert.ok(m, `no ${table} line in:\n${stdout}`);
  return { destination: m[1], lastId: Number(m[2]), syncedAt: m[3], rows: Number(m[4]) };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('cp:sync (MariaDB, Kafka, the loyalty-club export simulator over HTTP)', () => {
  let db: TestDatabase;
  let sim: CpExportSimulator;
  let env: Record<string, string>;
  const probe = new KafkaProbe();

  /** The CLI, and its output never holds a token (the configured one, the bad one, the embedded simulator's). */
  async function run(args: string[], extra: Record<string, string> = {}) {
    const result = await cli(['cp:sync', ...args], { ...env, ...extra });
    for (const token of [TOKEN, BAD_TOKEN, EMBEDDED_TOKEN])
      assert.equal((result.stdout + result.stderr).includes(token), false, `the token is printed by ${args.join(' ')}`);
    return result;
  }

  const cursor = async (table: CpTable): Promise<number | null> => {
    const [row] = await db.dataSource.query('SELECT position FROM sync_cursors WHERE stream = ?', [`cp.${table}`]);
    return row ? Number(row.position) : null;
  };

  /** The destination's rows as the source served them (source_row), by id. */
  async function stored(table: CpTable): Promise<unknown[]> {
    const spec = CP_TABLES.find((t) => t.name === table)!;
    const rows: Array<{ source_row: string }> = await db.dataSource.query(
      `SELECT source_row FROM ${DESTINATIONS[table]} ORDER BY ${spec.primaryKey}`,
    );
    return rows.map((r) => JSON.parse(r.source_row));
  }

  before(async () => {
    db = await createTestDatabase('cli_cp');
    sim = new CpExportSimulator({ seed: 11, rows: ROWS, token: TOKEN });
    await sim.start();
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      CP_EXPORT_URL: sim.exportUrl,
      CP_VISIT_URL: sim.visitUrl,
      CP_EXPORT_TOKEN: TOKEN,
      CP_EXPORT_BATCH_LIMIT: String(LIMIT),
      CP_EXPORT_RETRY_ATTEMPTS: '1',
      CP_EXPORT_RETRY_DELAY: '0',
      CP_EXPORT_TIMEOUT: '5',
    };
    await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.LoyaltyHistoriesChanged]);
  });

  after(async () => {
    await probe.close();
    await sim?.stop();
    await db?.drop();
  });

  it('--test: reachable, authorised and the latency, exit 0, with one request of limit 1', async () => {
    const before = sim.counters.rowsServed;
    const { code, stdout, stderr } = await run(['--test']);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^reachable\s+yes$/m);
    assert.match(stdout, /^authorised\s+yes$/m);
    assert.match(stdout, /^latency\s+\d+ ms$/m);
    assert.match(stdout, new RegExp(`^Loyalty-club export ${sim.exportUrl.replace(/[.]/g, '\\.')}$`, 'm'));
    assert.equal(sim.counters.rowsServed - before, CP_TABLES.length, 'one row per table: limit 1');
    assert.equal(await cursor('client'), null, 'a probe moves no cursor');
  });

  it('--test with a refused token: exit 1, says to check CP_EXPORT_TOKEN and the Bearer format, never prints it', async () => {
    const refused = sim.counters.unauthorized;
    const { code, stdout, stderr } = await run(['--test'], { CP_EXPORT_TOKEN: BAD_TOKEN });
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, /^reachable\s+yes$/m);
    assert.match(stdout, /^authorised\s+NO$/m);
    assert.match(stdout, /^problem: .*401.*CP_EXPORT_TOKEN/m);
    assert.match(stdout, /^fix: check CP_EXPORT_TOKEN: .*`Authorization: Bearer <token>`/m);
    assert.equal(sim.counters.unauthorized - refused, 1);
  });

  it('--test with nothing listening at CP_EXPORT_URL: exit 1, unreachable, says to check CP_EXPORT_URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api/export`;
    const { code, stdout, stderr } = await run(['--test'], { CP_EXPORT_URL: url });
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, /^reachable\s+NO$/m);
    assert.match(stdout, /^authorised\s+unknown$/m);
    assert.match(stdout, /^problem: .*ECONNREFUSED/m);
    assert.match(stdout, /^fix: check CP_EXPORT_URL/m);
  });

  it('--state before any sync: the seven streams at 0, never synced, no row', async () => {
    const { code, stdout, stderr } = await run(['--state']);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^table\s+destination\s+last inserted id\s+last synced at\s+rows stored$/m);
    assert.equal(stdout.trim().split('\n').length, 2 + CP_TABLES.length, 'a header, a rule and the seven streams');
    for (const table of CP_TABLES)
      assert.deepEqual(stateOf(stdout, table.name), {
        destination: DESTINATIONS[table.name],
        lastId: 0,
        syncedAt: 'never',
        rows: 0,
      });
  });

  it('no flag: one round as a cli run of crm/cp.export; every table still has more; --state after it', async () => {
    const exports = sim.counters.exports;
    const { code, stdout, stderr } = await run([]);
    assert.equal(code, 0, stdout + stderr);
    assert.equal(sim.counters.exports - exports, 1, 'one request');
    assert.match(stdout, new RegExp(`^round 1/1: fetched ${LIMIT * CP_TABLES.length}, 7 table\\(s\\) with more$`, 'm'));
    for (const table of CP_TABLES)
      assert.deepEqual(counts(stdout, table.name), {
        fetched: LIMIT,
        created: LIMIT,
        updated: 0,
        unchanged: 0,
        failed: 0,
      });
    assert.equal(counts(stdout, 'total').created, LIMIT * CP_TABLES.length);
    assert.match(stdout, /^Still to sync: client, client_abonnement, history, /m);
    const runId = /^Loyalty-club export: 1 round\(s\) of at most 1 \(run ([0-9a-f-]{36})\)$/m.exec(stdout)?.[1];
    assert.ok(runId, stdout);
    const done = await probe.waitFor(Topic.RunCompleted, (m) => m.json?.payload?.runId === runId, 'its run event');
    assert.deepEqual(
      [done.json.payload.job, done.json.payload.trigger, done.json.payload.stats.rounds],
      [CP_EXPORT.job, 'cli', 1],
    );
    for (const table of CP_TABLES) assert.equal(await cursor(table.name), LIMIT, table.name);
    // The CLI's rounds are a run like any: their change events carry its run id (the one it prints).
    await eventually(
      () => (probe.forRun(Topic.LoyaltyHistoriesChanged, runId).length >= LIMIT ? true : undefined),
      `the ${LIMIT} histories events of run ${runId}`,
      30000,
    );
    const histories = probe
      .forRun(Topic.LoyaltyHistoriesChanged, runId)
      .map((m) => ({ key: m.key, change: parseEnvelope(m.json, LoyaltyRowChangedPayload).payload }));
    assert.deepEqual(
      histories.map((h) => h.key).sort(),
      sim
        .rows('history')
        .slice(0, LIMIT)
        .map((r) => String(r.history_id))
        .sort(),
    );
    assert.ok(histories.every((h) => h.change.changeType === 'created' && h.change.table === 'histories'));
    assert.deepEqual(
      histories.find((h) => h.key === '1')?.change.record,
      sim.row('history', 1),
      'the row as the export answered it',
    );

    const state = await run(['--state']);
    assert.equal(state.code, 0, state.stderr);
    for (const table of CP_TABLES) {
      const s = stateOf(state.stdout, table.name);
      assert.deepEqual([s.lastId, s.rows], [LIMIT, LIMIT], table.name);
      assert.ok(!Number.isNaN(Date.parse(s.syncedAt)), s.syncedAt);
    }
  });

  it('--loop=N drains in as many rounds as needed (no more); the tables equal the simulator rows', async () => {
    const exports = sim.counters.exports;
    const { code, stdout, stderr } = await run(['--loop=10']);
    assert.equal(code, 0, stdout + stderr);
    // 50 stored; 100 and 120 to come: the second round answers the last rows and has_more is false.
    assert.equal(sim.counters.exports - exports, 2);
    assert.match(stdout, /^round 1\/10: fetched 350, 7 table\(s\) with more$/m);
    assert.match(stdout, /^round 2\/10: fetched 490, no table has more$/m);
    assert.match(stdout, /^Loyalty-club export: 2 round\(s\) of at most 10 /m);
    assert.match(stdout, /^Every table is up to date$/m);
    for (const table of CP_TABLES) {
      assert.deepEqual(counts(stdout, table.name), {
        fetched: ROWS - LIMIT,
        created: ROWS - LIMIT,
        updated: 0,
        unchanged: 0,
        failed: 0,
      });
      assert.deepEqual(await stored(table.name), sim.rows(table.name), table.name);
      assert.equal(await cursor(table.name), sim.maxId(table.name), table.name);
    }
  });

  it('--reset --table=NAME sets that cursor back to 0 and stops; --reset sets all seven and stops', async () => {
    const exports = sim.counters.exports;
    const one = await run(['--reset', '--table=history']);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /^Export cursors set back to 0: history /m);
    assert.equal(await cursor('history'), 0);
    assert.equal(await cursor('client'), ROWS, 'the other tables keep theirs');

    const all = await run(['--reset']);
    assert.equal(all.code, 0, all.stdout + all.stderr);
    assert.match(
      all.stdout,
      /^Export cursors set back to 0: client, client_abonnement, history, promotion_pass_orders, promotion_pass_vendu, partner, promotion /m,
    );
    for (const table of CP_TABLES) assert.equal(await cursor(table.name), 0, table.name);
    assert.equal(sim.counters.exports, exports, 'a reset alone sends no request');
    assert.doesNotMatch(all.stdout, /round/);
    assert.equal((await stored('client')).length, ROWS, 'rows stay');
  });

  it('--reset --loop=N is the full resync: everything read again, changed and new rows written, the rest unchanged', async () => {
    sim.update('client', 7, { ville: 'Carcassonne' });
    sim.append('partner', 3);
    const { code, stdout, stderr } = await run(['--reset', '--loop=50']);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^Export cursors set back to 0: client, /m);
    assert.match(stdout, /^round 3\/50: .*no table has more$/m);
    assert.deepEqual(counts(stdout, 'client'), {
      fetched: ROWS,
      created: 0,
      updated: 1,
      unchanged: ROWS - 1,
      failed: 0,
    });
    assert.deepEqual(counts(stdout, 'partner'), {
      fetched: ROWS + 3,
      created: 3,
      updated: 0,
      unchanged: ROWS,
      failed: 0,
    });
    assert.deepEqual(counts(stdout, 'history'), { fetched: ROWS, created: 0, updated: 0, unchanged: ROWS, failed: 0 });
    for (const table of CP_TABLES) {
      assert.deepEqual(await stored(table.name), sim.rows(table.name), table.name);
      assert.equal(await cursor(table.name), sim.maxId(table.name), table.name);
    }
  });

  it('while an export or reconcile holds the tables, a round is not run and a reset is refused (exit 1)', async () => {
    const lease = jobLeaseName({ companyId: 1, domain: 'crm', job: 'cp.reconcile' });
    const holder = '5b2c3d4e-0000-4000-8000-00000000cafe';
    await db.dataSource.query('INSERT INTO job_leases (name, owner, run_id, expires_at) VALUES (?, ?, ?, ?)', [
      lease,
      holder,
      holder,
      new Date(Date.now() + 600_000),
    ]);
    try {
      const exports = sim.counters.exports;
      const round = await run([]);
      assert.equal(round.code, 1, round.stdout + round.stderr);
      assert.match(round.stdout, /^not run: a loyalty-club export or reconcile is running/m);
      const reset = await run(['--reset', '--table=client']);
      assert.equal(reset.code, 1, reset.stdout + reset.stderr);
      assert.match(
        reset.stdout,
        new RegExp(`^not reset: a loyalty-club export or reconcile is running \\(run ${holder}\\)`, 'm'),
      );
      assert.equal(await cursor('client'), sim.maxId('client'), 'the cursor stays');
      assert.equal(sim.counters.exports, exports);
    } finally {
      await db.dataSource.query('DELETE FROM job_leases WHERE name = ?', [lease]);
    }
  });

  it('a run whose token is refused fails as config, exit 1, not retried, with the fix and without the token', async () => {
    const refused = sim.counters.unauthorized;
    const { code, stdout, stderr } = await run(['--loop=5'], {
      CP_EXPORT_TOKEN: BAD_TOKEN,
      CP_EXPORT_RETRY_ATTEMPTS: '3',
    });
    assert.equal(code, 1, stdout + stderr);
    const m = /^cp\.export \(run ([0-9a-f-]{36})\) FAILED \[config\/UPSTREAM_AUTH_REJECTED\]: (.*)$/m.exec(stdout);
    assert.ok(m, stdout);
    assert.match(m[2], /CP_EXPORT_TOKEN/);
    assert.match(m[2], /Bearer/);
    assert.equal(sim.counters.unauthorized - refused, 1, 'a 401 is never retried');
    assert.equal(counts(stdout, 'total').fetched, 0);
    const failed = await probe.waitFor(Topic.RunFailed, (e) => e.json?.payload?.runId === m[1], 'its run event');
    assert.equal(failed.json.payload.error.origin, 'config');
  });

  it('usage errors exit 2: an unknown --table (naming the seven), --table without --reset, --test with another flag, --loop=0', async () => {
    const unknown = await run(['--reset', '--table=clients']);
    assert.equal(unknown.code, 2, unknown.stdout + unknown.stderr);
    assert.match(
      unknown.stderr,
      /unknown table "clients": --table is one of client, client_abonnement, history, promotion_pass_orders, promotion_pass_vendu, partner, promotion/,
    );
    const alone = await run(['--table=client']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--table goes with --reset/);
    const mixed = await run(['--test', '--loop=3']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--test goes alone \(not with --loop\)/);
    const zero = await run(['--loop=0']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--loop.*1 to 10000/);
  });

  it('without CP_EXPORT_URL: exit 2 in the distributed mode; the embedded mode syncs from its simulator', async () => {
    const { CP_EXPORT_URL: _url, CP_VISIT_URL: _visit, CP_EXPORT_TOKEN: _token, ...unconfigured } = env;
    const missing = await cli(['cp:sync'], unconfigured);
    assert.equal(missing.code, 2, missing.stdout + missing.stderr);
    assert.match(missing.stderr, /CP_EXPORT_URL is not set/);

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-cli-embedded-'));
    try {
      const embedded = { DATA_DIR: dataDir, CP_EXPORT_BATCH_LIMIT: '500' };
      const test = await cli(['cp:sync', '--test'], embedded);
      assert.equal(test.code, 0, test.stdout + test.stderr);
      assert.match(test.stdout, /^Loyalty-club export http:\/\/127\.0\.0\.1:\d+\//m);
      const drained = await cli(['cp:sync', '--loop=5'], embedded);
      assert.equal(drained.code, 0, drained.stdout + drained.stderr);
      assert.match(drained.stdout, /^Every table is up to date$/m);
      const state = await cli(['cp:sync', '--state'], embedded);
      assert.equal(state.code, 0, state.stderr);
      for (const table of CP_TABLES) assert.equal(stateOf(state.stdout, table.name).rows, 200, table.name);
      for (const out of [test, drained, state]) assert.equal((out.stdout + out.stderr).includes(EMBEDDED_TOKEN), false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
