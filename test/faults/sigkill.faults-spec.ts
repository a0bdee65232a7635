import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { companyChangedMessage, Domain, Topic } from '@sync-hub/contracts';
import { SecretBox } from '@sync-hub/persistence';
import {
  CpExportSimulator,
  CpTable,
  DevposSimulator,
  EylandooSimulator,
  QuickBooksSimulator,
  RobawsSimulator,
  SplynxSimulator,
} from '@sync-hub/simulators';
import { CP_TABLE_SPECS } from '../../apps/crm-sync/src';
import { simulatedAccountingEnv } from '../support/accounting-env';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { CONSUMED_TOPICS, freshGroup, groupStartingNow, KafkaProbe, SeenMessage } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

/** RUN_CLAIM_LEASE_MS and SWEEP_INTERVAL_MS of libs/runs: a dead worker's run is taken over within their sum. */
const LEASE_MS = 60000;
const SWEEP_MS = 5000;
const API_KEY = 'faults-sigkill-gateway-key-0123456789';

const CUSTOMERS = 3000;
const SPLYNX_PAGE = 100;
const ROBAWS_CLIENTS = 2000;
const ROBAWS_PAGE = 50;
/** Rows per loyalty-club table and per table and round: 15 rounds of one request for the seven tables each. */
const CP_LIMIT = 20;
const CP_ROWS = 300;
const CP_LATENCY_MS = 250;
/** Two write batches of the usage sync (WRITE_BATCH is 500): the kill lands after the first commits. */
const CONFIGS = 1000;
const PANEL_CONCURRENCY = 10;
const SALES_RANGE = { from: '2026-05-04', to: '2026-05-15' };

/** One run killed with its process: what was stored when it died, its takeover and its end. */
interface Killed {
  runId: string;
  killedAt: number;
  /** Records stored when the process died (it is dead: nothing more lands). */
  storedAtKill: number;
  takeover: SeenMessage;
  end: SeenMessage;
}

/**
 * Scenarios 1 and 9 of issue 14: SIGKILL mid-run, for the Splynx sync and each later domain's main job, on the real
 * broker and MariaDB with the simulators slowed down so each run lasts several seconds. The four sync processes run
 * their jobs at once; each is killed at about half its records and restarted at once, as Kubernetes would. Nobody
 * hands the runs over: the restarted processes' sweepers take them over once the dead claims expire (lease + one
 * sweep at most), and the gateway's run record shows the takeover. The domains run concurrently so the lease is
 * waited for once.
 */
describe('SIGKILL mid-run: taken over within the lease, every record once, the takeover visible (issue 14, scenarios 1 and 9)', () => {
  let db: TestDatabase;
  const probe = new KafkaProbe();
  const apps: AppProcess[] = [];
  let gateway: AppProcess;
  const secretsKey = randomBytes(32);

  const splynx = new SplynxSimulator({ customers: CUSTOMERS, seed: 141 });
  const robaws = new RobawsSimulator({ seed: 142, clients: ROBAWS_CLIENTS });
  const cp = new CpExportSimulator({
    seed: 143,
    rows: Object.fromEntries(CP_TABLE_SPECS.map((s) => [s.source, CP_ROWS])) as Record<CpTable, number>,
    token: `cp-faults-${randomBytes(8).toString('hex')}`,
  });
  const qbo = new QuickBooksSimulator({ seed: 144 });
  const devpos = new DevposSimulator({ seed: 144 });
  const panel = new EylandooSimulator({
    seed: 145,
    growBytesPerRead: 0,
    latencyMs: 100,
    apiKey: `eyl-faults-${randomBytes(8).toString('hex')}`,
  });
  let expectedDocuments = 0;
  const runs: Partial<Record<string, Promise<Killed>>> = {};

  const count = async (sql: string): Promise<number> => Number((await db.dataSource.query(sql))[0].n);
  const cpStored = async (): Promise<number> => {
    let n = 0;
    for (const s of CP_TABLE_SPECS) n += await count(`SELECT COUNT(*) AS n FROM \`${s.destination}\``);
    return n;
  };
  const inQbo = (): number => qbo.entities('Invoice').length + qbo.entities('CreditMemo').length;
  const record = async (runId: string) => {
    const res = await fetch(`${gateway.url}/api/runs/${runId}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    return res.status === 200 ? ((await res.json()) as Record<string, any>) : undefined;
  };

  const send = async (topic: Topic, domain: Domain, job: string, params?: Record<string, unknown>) => {
    const t = tick(domain, job, params ? { params } : {});
    await probe.produce(topic, t.key, t.value);
    return t.value.payload.runId;
  };

  /**
   * Starts the app, sends its ticks, kills it with SIGKILL once `midway` says so, restarts it at once, and follows each
   * run to the end of its takeover. `stored` counts a run's records (the process is dead when it is read).
   */
  const killMidway = async (
    app: keyof typeof CONSUMED_TOPICS,
    env: Record<string, string>,
    ticks: Array<{ name: string; send: () => Promise<string>; stored: () => Promise<number> }>,
    midway: () => Promise<boolean>,
    atKill: () => Promise<void> = async () => undefined,
  ): Promise<void> => {
    const first = await startAppProcess(app, env, `faults-sigkill-${app}`);
    apps.push(first);
    const ids = await Promise.all(ticks.map((t) => t.send()));
    await eventually(async () => ((await midway()) ? true : undefined), `${app} halfway`, 90000, 50);
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;
    const stored = await Promise.all(ticks.map((t) => t.stored()));
    await atKill();
    // Restarted at once, as its Deployment would. In its own consumer group: the takeover comes from the claims in the
    // database, not from the bus, and the dead member would hold the old group's partitions until its session ends.
    // The group starts at the end of its topics: from the beginning, it would first decide every tick other files left
    // on this lane's broker (the tick storm's 10,000 among them), and the takeover would wait behind them.
    const restartedGroup = await groupStartingNow(`${env.KAFKA_GROUP_ID}-restarted`, CONSUMED_TOPICS[app]);
    const restarted = await startAppProcess(
      app,
      { ...env, KAFKA_GROUP_ID: restartedGroup },
      `faults-sigkill-${app}-restarted`,
    );
    apps.push(restarted);
    ticks.forEach((t, i) => {
      const runId = ids[i];
      runs[t.name] = (async () => {
        const takeover = await eventually(
          () => probe.forRun(Topic.RunStarted, runId).find((m) => m.json.payload.attempt === 2),
          `the takeover of ${t.name}`,
          LEASE_MS + SWEEP_MS + 30000,
          100,
        );
        const end = await probe.waitForRunEnd(runId, 120000, takeover.json.occurredAt);
        return { runId, killedAt, storedAtKill: stored[i], takeover, end };
      })();
      runs[t.name]!.catch(() => undefined); // awaited by its test
    });
  };

  before(async () => {
    db = await createTestDatabase('faults_sigkill');
    const [splynxUrl, robawsUrl, , devposUrl] = await Promise.all([
      splynx.start(),
      robaws.start(),
      cp.start(),
      devpos.start(),
      qbo.start(),
      panel.start(),
    ]);
    splynx.setFaults({ latencyMs: 400 });
    robaws.setFaults({ latencyMs: 250 });
    cp.setFaults({ latencyMs: CP_LATENCY_MS });
    qbo.setFaults({ latencyMs: 500, target: 'api' });
    const tenant = devpos.users[0].tenant;
    devpos.generate(tenant, { ...SALES_RANGE, salesPerDay: 30, purchasesPerDay: 0 });
    expectedDocuments = devpos
      .documentsOf(tenant, 'sales')
      .filter((d) => d.invoiceCreatedDate.slice(0, 10) >= SALES_RANGE.from)
      .filter((d) => d.invoiceCreatedDate.slice(0, 10) <= SALES_RANGE.to)
      .filter((d) => d.invoiceStatus !== 'Refuzuar' && !d.selfIssuingType).length;
    const seed = qbo.connect();

    // The usage sync's reseller configs, on one slow panel read PANEL_CONCURRENCY at a time: about 5 s a write batch.
    const { insertId: reseller } = (await db.dataSource.query(
      "INSERT INTO resellers (name, created_at, updated_at) VALUES ('Reseller', NOW(3), NOW(3))",
    )) as unknown as { insertId: number };
    const { insertId: panelId } = (await db.dataSource.query(
      `INSERT INTO panels (name, type, url, max_concurrency, active, created_at, updated_at)
       VALUES ('slow', 'eylandoo', ?, ?, 1, NOW(3), NOW(3))`,
      [panel.url, PANEL_CONCURRENCY],
    )) as unknown as { insertId: number };
    await db.dataSource.query('UPDATE panels SET credentials_sealed = ? WHERE id = ?', [
      new SecretBox(secretsKey).sealJson({ apiKey: panel.apiKey }, `panels:${panelId}`),
      panelId,
    ]);
    for (let i = 0; i < CONFIGS; i++) panel.addUser(`user${i}`, { shape: 'total_traffic_bytes', usedBytes: 1000 + i });
    await db.dataSource.query(
      `INSERT INTO reseller_configs (reseller_id, panel_id, external_username, status, usage_bytes, created_at, updated_at)
       VALUES ${Array.from({ length: CONFIGS }, () => "(?, ?, ?, 'active', 0, NOW(3), NOW(3))").join(', ')}`,
      Array.from({ length: CONFIGS }, (_, i) => [reseller, panelId, `user${i}`]).flat(),
    );

    await probe.watch([
      Topic.RunStarted,
      Topic.RunCompleted,
      Topic.RunFailed,
      Topic.RunSkipped,
      Topic.UsageConfigUpdated,
    ]);
    const company = companyChangedMessage({
      id: 1,
      name: 'Company 1',
      timezone: 'Europe/Tirane',
      active: true,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
    await probe.produce(company.topic, company.key, company.value);
    const base = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      SECRETS_KEY: secretsKey.toString('base64'),
      GATEWAY_API_KEYS: API_KEY,
    };
    const group = (name: string, topics: string[]) => freshGroup(`faults-sigkill-${name}`, topics);
    const runTopics = [Topic.RunStarted, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];
    const [gatewayGroup, splynxGroup, accountingGroup, crmGroup, usageGroup] = await Promise.all([
      group('gateway', runTopics),
      group('splynx', [Topic.SplynxRequested]),
      group('accounting', [Topic.AccountingRequested]),
      group('crm', [Topic.CrmRequested, Topic.RobawsWebhookReceived]),
      group('usage', [Topic.UsageRequested]),
    ]);
    gateway = await startAppProcess('gateway', { ...base, KAFKA_GROUP_ID: gatewayGroup }, 'faults-sigkill-gateway');
    apps.push(gateway);

    await Promise.all([
      killMidway(
        'splynx-sync',
        {
          ...base,
          KAFKA_GROUP_ID: splynxGroup,
          SPLYNX_URL: splynxUrl,
          SPLYNX_API_KEY: splynx.apiKey,
          SPLYNX_API_SECRET: splynx.apiSecret,
          SPLYNX_PAGE_SIZE: String(SPLYNX_PAGE),
        },
        [
          {
            name: 'splynx',
            send: () => send(Topic.SplynxRequested, 'splynx', 'customers'),
            stored: () => count('SELECT COUNT(*) AS n FROM splynx_customers'),
          },
        ],
        async () => (await count('SELECT COUNT(*) AS n FROM splynx_customers')) >= CUSTOMERS / 2,
      ),
      killMidway(
        'accounting-sync',
        {
          ...base,
          KAFKA_GROUP_ID: accountingGroup,
          ...simulatedAccountingEnv(qbo, seed, devpos, devposUrl),
          HTTP_RETRIES: '1',
          HTTP_RETRY_BASE_DELAY_MS: '20',
        },
        [
          {
            name: 'accounting',
            send: () => send(Topic.AccountingRequested, 'accounting', 'sales', SALES_RANGE),
            stored: () => count("SELECT COUNT(*) AS n FROM accounting_documents WHERE status = 'synced'"),
          },
        ],
        async () =>
          (await count("SELECT COUNT(*) AS n FROM accounting_documents WHERE status = 'synced'")) >=
          expectedDocuments / 3,
      ),
      killMidway(
        'crm-sync',
        {
          ...base,
          KAFKA_GROUP_ID: crmGroup,
          ROBAWS_URL: robawsUrl,
          ROBAWS_API_KEY: robaws.apiKey,
          ROBAWS_API_SECRET: robaws.apiSecret,
          ROBAWS_PAGE_SIZE: String(ROBAWS_PAGE),
          ROBAWS_DEFAULT_COUNTRY: 'BE',
          CP_EXPORT_URL: cp.exportUrl,
          CP_VISIT_URL: cp.visitUrl,
          CP_EXPORT_TOKEN: cp.token,
          CP_EXPORT_BATCH_LIMIT: String(CP_LIMIT),
          // Longer than the test holds a round for (until the kill): the held request never times out.
          CP_EXPORT_TIMEOUT: '900',
          HTTP_RETRIES: '2',
          HTTP_RETRY_BASE_DELAY_MS: '20',
        },
        [
          {
            name: 'robaws',
            send: () => send(Topic.CrmRequested, 'crm', 'robaws.customers.full'),
            stored: () => count('SELECT COUNT(*) AS n FROM robaws_customers'),
          },
          { name: 'cp', send: () => send(Topic.CrmRequested, 'crm', 'cp.export'), stored: cpStored },
        ],
        // One process runs both jobs and dies once: the export, faster, is held at its next round once half its rows
        // are stored, until the Robaws pull is halfway too.
        async () => {
          if (!cpHeld && (await cpStored()) >= (CP_ROWS * CP_TABLE_SPECS.length) / 2) {
            cp.setFaults({ hangNext: 1, hangMs: 0 }); // held until resetFaults()
            cpHeld = true;
          }
          return cpHeld && (await count('SELECT COUNT(*) AS n FROM robaws_customers')) >= ROBAWS_CLIENTS / 2;
        },
        async () => {
          cursorsAtKill = await cpCursors();
          robawsCursorAtKill = await robawsCursor();
          cp.resetFaults(); // the dead process's held request is answered (to no one)
          cp.setFaults({ latencyMs: CP_LATENCY_MS });
        },
      ),
      killMidway(
        'usage-sync',
        { ...base, KAFKA_GROUP_ID: usageGroup },
        [
          {
            name: 'usage',
            send: () => send(Topic.UsageRequested, 'usage', 'reseller.usage'),
            stored: () => count('SELECT COUNT(*) AS n FROM reseller_configs WHERE usage_synced_at IS NOT NULL'),
          },
        ],
        async () =>
          (await count('SELECT COUNT(*) AS n FROM reseller_configs WHERE usage_synced_at IS NOT NULL')) >= CONFIGS / 2,
      ),
    ]);
  });

  let cpHeld = false;
  let cursorsAtKill: Array<{ stream: string; position: number; maxStored: number }> = [];
  let robawsCursorAtKill: string | null = null;
  /** Each loyalty-club table's cursor beside its highest stored id. */
  const cpCursors = async () =>
    Promise.all(
      CP_TABLE_SPECS.map(async (s) => {
        const [row] = await db.dataSource.query('SELECT position FROM sync_cursors WHERE stream = ?', [
          `cp.${s.source}`,
        ]);
        return {
          stream: `cp.${s.source}`,
          position: Number(row?.position ?? 0),
          maxStored: await count(`SELECT COALESCE(MAX(\`${s.primaryKey}\`), 0) AS n FROM \`${s.destination}\``),
        };
      }),
    );
  const robawsCursor = async (): Promise<string | null> =>
    (await db.dataSource.query("SELECT position FROM sync_cursors WHERE stream = 'robaws.clients'"))[0]?.position ??
    null;

  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await probe.close();
    await Promise.all([splynx, robaws, cp, qbo, devpos, panel].map((s) => s.stop()));
    await db?.drop();
  });

  /**
   * What every killed run must show: taken over within the lease plus one sweep, as attempt 2 because its worker
   * stopped renewing its claim; completed; and its record in the gateway (the API) says all of it.
   */
  const assertTakenOver = async (name: string, total: number): Promise<Killed> => {
    const killed = await runs[name]!;
    const p = killed.takeover.json.payload;
    const takenOverAt = new Date(p.takenOverAt).getTime();
    const end = killed.end.json.payload;
    console.log(
      `${name}: killed at ${killed.storedAtKill} of ${total} records; taken over ${takenOverAt - killed.killedAt} ms ` +
        `after SIGKILL (bound ${LEASE_MS + SWEEP_MS} ms); takeover ran ${end.durationMs} ms: ${JSON.stringify(end.stats)}`,
    );
    assert.ok(killed.storedAtKill > 0 && killed.storedAtKill < total, `${name}: killed mid-run`);
    assert.deepEqual([p.attempt, p.takeoverReason], [2, 'claim_expired']);
    assert.ok(takenOverAt - killed.killedAt <= LEASE_MS + SWEEP_MS, `${name}: taken over within lease + sweep`);
    assert.equal(killed.end.topic, Topic.RunCompleted, `${name} ended ${killed.end.value}`);
    assert.deepEqual([end.attempt, end.takeoverReason, end.takenOverAt], [2, 'claim_expired', p.takenOverAt]);
    assert.equal(probe.forRun(Topic.RunStarted, killed.runId).length, 2, 'started by the killed and the new worker');
    assert.equal(probe.forRun(Topic.RunCompleted, killed.runId).length, 1);
    const [claim] = await db.dataSource.query(
      'SELECT status, attempt, takeover_reason FROM run_claims WHERE run_id = ?',
      [killed.runId],
    );
    assert.deepEqual([claim.status, claim.attempt, claim.takeover_reason], ['completed', 2, 'claim_expired']);
    const shown = await eventually(
      async () => ((await record(killed.runId))?.status === 'completed' ? record(killed.runId) : undefined),
      `the gateway's record of ${name}`,
      15000,
    );
    assert.deepEqual(
      [shown.status, shown.attempts, shown.taken_over_at, shown.takeover_reason],
      ['completed', 2, new Date(takenOverAt).toISOString(), 'claim_expired'],
    );
    return killed;
  };

  it('Splynx customers: every customer once, none deactivated by the killed run', async () => {
    const killed = await assertTakenOver('splynx', CUSTOMERS);
    const stats = killed.end.json.payload.stats;
    assert.equal(stats.fetched, CUSTOMERS, 'a full sync reruns from the first page');
    assert.equal(stats.created + stats.unchanged, CUSTOMERS);
    assert.equal(stats.unchanged, killed.storedAtKill, 'what the killed run stored is unchanged');
    assert.equal(stats.deactivated, 0);
    const [r] = await db.dataSource.query(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT splynx_id) AS d, SUM(active) AS a FROM splynx_customers',
    );
    assert.deepEqual([Number(r.n), Number(r.d), Number(r.a)], [CUSTOMERS, CUSTOMERS, CUSTOMERS]);
  });

  it('accounting (DevPos → QuickBooks sales): every document once, in QuickBooks once', async () => {
    const killed = await assertTakenOver('accounting', expectedDocuments);
    const [r] = await db.dataSource.query(
      "SELECT COUNT(*) AS n, COUNT(DISTINCT eic) AS d, SUM(status = 'synced') AS s, SUM(status = 'pending') AS p FROM accounting_documents",
    );
    assert.equal(Number(r.n), Number(r.d), 'no document twice');
    assert.deepEqual([Number(r.s), Number(r.p)], [expectedDocuments, 0]);
    assert.equal(inQbo(), expectedDocuments, 'no duplicate in QuickBooks');
    assert.equal(killed.end.json.payload.stats.failed, 0);
  });

  it('crm robaws.customers.full: every client once, none marked deleted; the cursor moved only with the last batch', async () => {
    const killed = await assertTakenOver('robaws', ROBAWS_CLIENTS);
    assert.equal(robawsCursorAtKill, null, 'the killed run had not reached its last batch: no cursor');
    const stats = killed.end.json.payload.stats;
    assert.equal(stats.fetched, ROBAWS_CLIENTS, 'a full pull reruns from the first page');
    assert.equal(stats.deletedUpstream ?? 0, 0);
    const [r] = await db.dataSource.query(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT robaws_id) AS d, SUM(deleted_upstream) AS del FROM robaws_customers',
    );
    assert.deepEqual([Number(r.n), Number(r.d), Number(r.del)], [ROBAWS_CLIENTS, ROBAWS_CLIENTS, 0]);
    assert.notEqual(await robawsCursor(), null, 'the completed pull moved the cursor');
  });

  it('crm cp.export: resumed from the committed cursors, every row once; no cursor passed an uncommitted row', async () => {
    const total = CP_ROWS * CP_TABLE_SPECS.length;
    const killed = await assertTakenOver('cp', total);
    for (const c of cursorsAtKill)
      assert.equal(c.position, c.maxStored, `${c.stream} at its last stored id when killed`);
    const stats = killed.end.json.payload.stats;
    assert.deepEqual(
      [stats.fetched, stats.created, stats.updated, stats.unchanged],
      [total - killed.storedAtKill, total - killed.storedAtKill, 0, 0],
      'the takeover resumed where the killed run had committed: only the rest fetched',
    );
    for (const s of CP_TABLE_SPECS) {
      const [r] = await db.dataSource.query(
        `SELECT COUNT(*) AS n, COUNT(DISTINCT \`${s.primaryKey}\`) AS d FROM \`${s.destination}\``,
      );
      assert.deepEqual([Number(r.n), Number(r.d)], [CP_ROWS, CP_ROWS], s.destination);
    }
    for (const c of await cpCursors()) assert.equal(c.position, cp.maxId(c.stream.slice(3) as CpTable), c.stream);
  });

  it("usage reseller.usage: every config's usage saved once, the panel's value; one change event per config", async () => {
    const killed = await assertTakenOver('usage', CONFIGS);
    const stats = killed.end.json.payload.stats;
    assert.equal(stats.fetched, CONFIGS, 'the takeover reads every config again');
    assert.deepEqual(
      [stats.updated, stats.unchanged, stats.failed],
      [CONFIGS - killed.storedAtKill, killed.storedAtKill, 0],
      'what the killed run saved is unchanged, the rest updated',
    );
    const rows: Array<{ external_username: string; usage_bytes: string }> = await db.dataSource.query(
      'SELECT external_username, usage_bytes FROM reseller_configs WHERE usage_synced_at IS NOT NULL',
    );
    assert.equal(rows.length, CONFIGS);
    for (const r of rows)
      assert.equal(Number(r.usage_bytes), panel.user(r.external_username)!.usedBytes, r.external_username);
    // Each config moved once (0 → its usage): one usage.config.updated.v1 per config, from the killed run's batch or
    // the takeover's, never both. A message the outbox sent again after the kill keeps its id: counted once.
    const changes = await eventually(
      () => {
        const byConfig = new Map<number, Set<string>>();
        for (const m of probe.messages(Topic.UsageConfigUpdated)) {
          const ids = byConfig.get(m.json.payload.configId) ?? new Set<string>();
          byConfig.set(m.json.payload.configId, ids.add(m.json.id));
        }
        return byConfig.size === CONFIGS ? byConfig : undefined;
      },
      'a usage change event for every config',
      30000,
    );
    assert.deepEqual([...changes.values()].filter((ids) => ids.size !== 1).length, 0, 'no config announced twice');
    const events = probe.messages(Topic.UsageConfigUpdated);
    console.log(
      `usage: ${events.length} change message(s) for ${changes.size} configs, ` +
        `${new Set(events.map((m) => m.json.id)).size} distinct (a repeat is the outbox sending again after the kill)`,
    );
    for (const m of events) {
      assert.equal(m.json.runId, killed.runId, 'announced by the run, killed or taken over');
      assert.equal(m.json.payload.previous, 0);
    }
  });

  it('no app logged a secret', () => {
    const secrets = [splynx.apiSecret, robaws.apiSecret, cp.token, panel.apiKey, secretsKey.toString('base64')];
    for (const app of apps) {
      const log = fs.readFileSync(app.logFile, 'utf8');
      for (const secret of secrets) assert.ok(!log.includes(secret), `${app.logFile} holds a secret`);
    }
  });
});
