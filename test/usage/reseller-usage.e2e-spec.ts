import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { deadLetterTopic, RESELLER_USAGE, Topic } from '@sync-hub/contracts';
import { SecretBox } from '@sync-hub/persistence';
import {
  EylandooFieldShape,
  EylandooSimulator,
  MarzbanSimulator,
  MarzneshinSimulator,
  ThreeXuiSimulator,
} from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe, SeenMessage } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-usage-key-0123456789abcdef';
const GIB = 1024 ** 3;
const RUN_ENDS: string[] = [Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped];
/** USAGE_PANEL_TIMEOUT of this suite, in seconds: how long a hanging panel holds a read. */
const PANEL_TIMEOUT_S = 2;

interface ConfigRow {
  id: number;
  usage_bytes: string;
  usage_synced_at: Date | null;
  last_usage_error: string | null;
  last_usage_error_at: Date | null;
  limit_alert_percent: number;
}

describe('usage-sync: reseller.usage and the diagnostic (real Kafka, MariaDB, the four panel simulators over HTTP)', () => {
  let db: TestDatabase;
  let app: AppProcess;
  const probe = new KafkaProbe();
  const secretsKey = randomBytes(32);
  const box = new SecretBox(secretsKey);
  const eylandoo = new EylandooSimulator({
    seed: 31,
    growBytesPerRead: 0,
    apiKey: `eyl-key-${randomBytes(8).toString('hex')}`,
  });
  const marzban = new MarzbanSimulator({
    seed: 32,
    growBytesPerRead: 0,
    adminPassword: `mzb-pass-${randomBytes(8).toString('hex')}`,
  });
  const marzneshin = new MarzneshinSimulator({
    seed: 33,
    growBytesPerRead: 0,
    adminPassword: `mzn-pass-${randomBytes(8).toString('hex')}`,
  });
  const xui = new ThreeXuiSimulator({
    seed: 34,
    growBytesPerRead: 0,
    adminPassword: `xui-pass-${randomBytes(8).toString('hex')}`,
  });
  const xui31 = new ThreeXuiSimulator({
    seed: 35,
    growBytesPerRead: 0,
    generation: 'v3.1',
    apiToken: `xui-token-${randomBytes(12).toString('hex')}`,
  });
  /** A panel whose reads hang until the client's timeout: the dead panel of the circuit tests. */
  const hanging = new MarzbanSimulator({
    seed: 36,
    growBytesPerRead: 0,
    adminPassword: `dead-pass-${randomBytes(8).toString('hex')}`,
  });
  const healthy = new MarzbanSimulator({ seed: 37, growBytesPerRead: 0, latencyMs: 20 });
  const slow = new EylandooSimulator({ seed: 38, growBytesPerRead: 0, latencyMs: 400 });
  const secrets = [
    eylandoo.apiKey,
    marzban.adminPassword,
    marzneshin.adminPassword,
    xui.adminPassword,
    xui31.apiToken!,
    hanging.adminPassword,
    healthy.adminPassword,
    slow.apiKey,
  ];
  const panels: Record<string, number> = {};
  const configs: Record<string, number> = {};
  let reseller1 = 0;
  let reseller2 = 0;

  const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => db.dataSource.query(sql, params);
  const addPanel = async (
    name: string,
    type: string,
    url: string,
    credentials: object,
    options: { settings?: object; maxConcurrency?: number; requestsPerSecond?: number } = {},
  ): Promise<number> => {
    const { insertId } = (await db.dataSource.query(
      `INSERT INTO panels (name, type, url, settings, max_concurrency, requests_per_second, active, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, NOW(3), NOW(3))`,
      [
        name,
        type,
        url,
        options.settings ? JSON.stringify(options.settings) : null,
        options.maxConcurrency ?? 8,
        options.requestsPerSecond ?? null,
      ],
    )) as unknown as { insertId: number };
    await q('UPDATE panels SET credentials_sealed = ? WHERE id = ?', [
      box.sealJson(credentials, `panels:${insertId}`),
      insertId,
    ]);
    return (panels[name] = insertId);
  };
  const addConfig = async (
    label: string,
    panel: string,
    username: string,
    fields: { usage?: number; limit?: number | null; reseller?: number; status?: string } = {},
  ): Promise<number> => {
    const { insertId } = (await db.dataSource.query(
      `INSERT INTO reseller_configs (reseller_id, panel_id, external_username, status, usage_bytes, traffic_limit_bytes, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, NOW(3), NOW(3))`,
      [
        fields.reseller ?? reseller1,
        panels[panel],
        username,
        fields.status ?? 'active',
        fields.usage ?? 0,
        fields.limit ?? null,
      ],
    )) as unknown as { insertId: number };
    return (configs[label] = insertId);
  };
  const config = async (label: string): Promise<ConfigRow> =>
    (await q<ConfigRow>('SELECT * FROM reseller_configs WHERE id = ?', [configs[label]]))[0];
  const usage = async (label: string): Promise<number> => Number((await config(label)).usage_bytes);
  /** Only these panels are active: each test syncs its own. */
  const activate = async (...names: string[]): Promise<void> => {
    const ids = names.map((n) => panels[n]);
    await q(`UPDATE panels SET active = CASE WHEN id IN (${ids.join(', ') || 0}) THEN 1 ELSE 0 END`);
  };
  const send = async (params?: Record<string, unknown>): Promise<string> => {
    const t = tick('usage', 'reseller.usage', params ? { params } : {});
    await probe.produce(Topic.UsageRequested, t.key, t.value);
    return t.value.runId!;
  };
  const runEnd = async (runId: string, timeoutMs = 60000): Promise<SeenMessage> => {
    const end = await eventually(
      () =>
        probe.seen.find(
          (m) =>
            [...RUN_ENDS, deadLetterTopic(Topic.UsageRequested)].includes(m.topic) && m.json?.payload?.runId === runId,
        ),
      `the end of run ${runId}`,
      timeoutMs,
      50,
    );
    assert.notEqual(end.topic, deadLetterTopic(Topic.UsageRequested), `dead-lettered: ${end.headers.error}`);
    return end;
  };
  const run = async (params?: Record<string, unknown>) => {
    const runId = await send(params);
    const end = await runEnd(runId);
    return { runId, end, payload: end.json.payload, stats: end.json.payload.stats };
  };
  const logs = (): string => fs.readFileSync(app.logFile, 'utf8');
  const api = async (method: string, path: string, key: string | null = API_KEY) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const eventsOf = (topic: Topic, runId: string) =>
    probe.messages(topic, (m) => m.json?.runId === runId).map((m) => ({ key: m.key, ...m.json.payload }));

  before(async () => {
    db = await createTestDatabase('usage_job');
    for (const sim of [eylandoo, marzban, marzneshin, xui, xui31, hanging, healthy, slow]) await sim.start();
    [reseller1, reseller2] = await Promise.all(
      ['Reseller One', 'Reseller Two'].map(async (name) => {
        const { insertId } = (await db.dataSource.query(
          'INSERT INTO resellers (name, created_at, updated_at) VALUES (?, NOW(3), NOW(3))',
          [name],
        )) as unknown as { insertId: number };
        return insertId;
      }),
    );
    await addPanel('eyl-1', 'eylandoo', eylandoo.url, { apiKey: eylandoo.apiKey });
    await addPanel('mzb-1', 'marzban', marzban.url, {
      username: marzban.adminUsername,
      password: marzban.adminPassword,
    });
    await addPanel('mzn-1', 'marzneshin', marzneshin.url, {
      username: marzneshin.adminUsername,
      password: marzneshin.adminPassword,
    });
    await addPanel('xui-1', '3x-ui', xui.url, { username: xui.adminUsername, password: xui.adminPassword });
    await addPanel('xui-31', '3x-ui', xui31.url, { apiToken: xui31.apiToken! }, { settings: { generation: 'v3.1' } });
    await addPanel(
      'dead',
      'marzban',
      hanging.url,
      { username: hanging.adminUsername, password: hanging.adminPassword },
      { maxConcurrency: 4 },
    );
    await addPanel('healthy', 'marzban', healthy.url, {
      username: healthy.adminUsername,
      password: healthy.adminPassword,
    });
    await addPanel('slow', 'eylandoo', slow.url, { apiKey: slow.apiKey }, { maxConcurrency: 1 });
    await probe.watch([
      Topic.RunStarted,
      ...RUN_ENDS,
      deadLetterTopic(Topic.UsageRequested),
      Topic.UsageConfigUpdated,
      Topic.UsageLimitCrossed,
    ]);
    app = await startAppProcess(
      'usage-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        KAFKA_GROUP_ID: await freshGroup('usage-job', [Topic.UsageRequested]),
        DATABASE_URL: db.url,
        SECRETS_KEY: secretsKey.toString('base64'),
        GATEWAY_API_KEYS: API_KEY,
        USAGE_PANEL_TIMEOUT: String(PANEL_TIMEOUT_S),
      },
      'usage-sync-job-e2e',
    );
  });

  after(async () => {
    hanging.resetFaults();
    await app?.stop();
    await probe.close();
    for (const sim of [eylandoo, marzban, marzneshin, xui, xui31, hanging, healthy, slow]) await sim.stop();
    await db?.drop();
  });

  it("Eylandoo: each branch of the seed's fallback chain; an empty username skipped without a call; an unknown user a hard failure that keeps the usage", async () => {
    const shapes: Array<[string, EylandooFieldShape, number]> = [
      ['eyl-total', 'total_traffic_bytes', 1111],
      ['eyl-updown', 'upload_download', 2_000_002],
      ['eyl-dataused', 'data_used', 3333],
      ['eyl-none', 'none', 4444],
    ];
    for (const [username, shape, bytes] of shapes) {
      eylandoo.addUser(username, { shape, usedBytes: bytes });
      await addConfig(username, 'eyl-1', username);
    }
    eylandoo.removeUser('eyl-ghost');
    await addConfig('eyl-ghost', 'eyl-1', 'eyl-ghost', { usage: 777, reseller: reseller2 });
    await addConfig('eyl-empty', 'eyl-1', '');
    await addConfig('eyl-blank', 'eyl-1', '   ');
    await addConfig('eyl-disabled', 'eyl-1', 'eyl-total', { status: 'disabled', usage: 5 });
    await activate('eyl-1');
    const requests = eylandoo.counters.requests;

    const { end, stats } = await run();
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.equal(
      eylandoo.counters.requests - requests,
      5,
      'five reads: none for the empty usernames nor the disabled config',
    );
    assert.deepEqual(
      [await usage('eyl-total'), await usage('eyl-updown'), await usage('eyl-dataused'), await usage('eyl-none')],
      [1111, 2_000_002, 3333, 0],
      'total_traffic_bytes; upload + download; data.data_used; no field: 0',
    );
    const ghost = await config('eyl-ghost');
    assert.equal(Number(ghost.usage_bytes), 777, 'a hard failure keeps the usage: null, never 0');
    assert.match(ghost.last_usage_error!, /^eylandoo panel eyl-1: HTTP 404/);
    assert.ok(ghost.last_usage_error_at);
    assert.equal(ghost.usage_synced_at, null);
    assert.equal((await config('eyl-empty')).usage_synced_at, null, 'skipped: nothing written');
    assert.equal(await usage('eyl-disabled'), 5, 'only active configs are synced');
    assert.ok((await config('eyl-total')).usage_synced_at);
    assert.deepEqual(
      [stats.fetched, stats.updated, stats.unchanged, stats.failed, stats.skipped, stats.notReached],
      [4, 3, 1, 1, 2, 0],
    );
    assert.deepEqual(stats.panelTypes.eylandoo, {
      processed: 7,
      updated: 3,
      unchanged: 1,
      hardFailures: 1,
      skipped: 2,
      notReached: 0,
    });
    assert.equal(stats.panelTypes.marzban.processed, 0);

    const text = logs();
    for (const line of [
      'Starting reseller usage sync',
      `Syncing usage for reseller ${reseller1}`,
      `Syncing usage for reseller ${reseller2}`,
      'Eylandoo usage from userInfo.total_traffic_bytes (username: eyl-total, usage_bytes: 1111)',
      'Eylandoo usage from userInfo.upload_bytes + download_bytes (username: eyl-updown, upload_bytes: ',
      'total_usage_bytes: 2000002)',
      'Eylandoo usage from data.data_used (username: eyl-dataused, usage_bytes: 3333)',
      'Eylandoo usage: no traffic data fields found, returning 0 (username: eyl-none)',
      `Eylandoo usage for user eyl-total: 1111 bytes (config_id: ${configs['eyl-total']})`,
      'Eylandoo Get User failed: (status: 404, username: eyl-ghost, body_preview: ',
      `Eylandoo usage fetch failed for user eyl-ghost (hard failure) (config_id: ${configs['eyl-ghost']}, panel_url: ${eylandoo.url})`,
      `Eylandoo usage fetch skipped: empty username (config_id: ${configs['eyl-empty']})`,
      'Reseller usage sync completed (eylandoo_configs_processed: 7, marzban_configs_processed: 0',
    ])
      assert.ok(text.includes(line), `the log has: ${line}`);
    assert.match(
      text,
      /"source_field":"userInfo\.upload_bytes \+ download_bytes"/,
      'the per-user line names its field',
    );

    // The user is back on the panel: the next run reads it and clears the error.
    eylandoo.addUser('eyl-ghost', { shape: 'total_traffic_bytes', usedBytes: 900 });
    const again = await run();
    assert.equal(again.end.topic, Topic.RunCompleted);
    const back = await config('eyl-ghost');
    assert.deepEqual([Number(back.usage_bytes), back.last_usage_error, back.last_usage_error_at], [900, null, null]);
    assert.ok(back.usage_synced_at);
    assert.deepEqual([again.stats.updated, again.stats.unchanged, again.stats.failed], [1, 4, 0]);
  });

  it('Marzban, Marzneshin and 3x-ui (cookie login and the v3.1 token route) through the job; an expired token is renewed', async () => {
    marzban.setUsage('mzb-user', 5 * GIB);
    marzneshin.setUsage('user7', 6 * GIB);
    xui.setUsage('user3', { up: 100, down: 7 * GIB });
    xui31.setUsage('user4', { up: 1, down: 8 * GIB });
    await addConfig('mzb', 'mzb-1', 'mzb-user');
    await addConfig('mzn', 'mzn-1', 'user7');
    await addConfig('xui', 'xui-1', 'user3');
    await addConfig('xui31', 'xui-31', 'user4');
    await activate('mzb-1', 'mzn-1', 'xui-1', 'xui-31');
    const { end, stats } = await run();
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.deepEqual(
      [await usage('mzb'), await usage('mzn'), await usage('xui'), await usage('xui31')],
      [5 * GIB, 6 * GIB, 7 * GIB + 100, 8 * GIB + 1],
    );
    assert.deepEqual(
      [stats.panelTypes.marzban.updated, stats.panelTypes.marzneshin.updated, stats.panelTypes['3x-ui'].updated],
      [1, 1, 2],
    );
    assert.equal(xui31.counters.loginsIssued, 0, 'the v3.1 route is read with the API token, no login');
    assert.equal(xui31.counters.apiTokenRequests, 1);
    const text = logs();
    assert.ok(text.includes(`Marzban usage for user mzb-user: ${5 * GIB} bytes (config_id: ${configs.mzb})`));
    assert.ok(text.includes(`Marzneshin usage for user user7: ${6 * GIB} bytes (config_id: ${configs.mzn})`));
    assert.ok(text.includes(`3x-ui usage for user user3: ${7 * GIB + 100} bytes (config_id: ${configs.xui})`));
    assert.match(
      text,
      /Reseller usage sync completed \(eylandoo_configs_processed: 0, marzban_configs_processed: 1, marzneshin_configs_processed: 1, 3x-ui_configs_processed: 2\)/,
    );

    // Each run logs in afresh; a token refused mid-run is renewed once.
    marzban.setUsage('mzb-user', 5 * GIB + 10);
    marzban.invalidateTokens();
    marzneshin.expireTokens();
    xui.expireSessions();
    const renewed = await run();
    assert.equal(renewed.end.topic, Topic.RunCompleted);
    assert.equal(await usage('mzb'), 5 * GIB + 10);
    assert.deepEqual([renewed.stats.updated, renewed.stats.unchanged, renewed.stats.failed], [1, 3, 0]);
  });

  it('usage.config.updated.v1 for each changed config and usage.limit.crossed.v1 once per crossing, read by an independent consumer', async () => {
    marzban.setUsage('limited', 0);
    marzban.setUsage('steady', 3 * GIB);
    await addConfig('limited', 'mzb-1', 'limited', { limit: 10 * GIB, reseller: reseller2 });
    await addConfig('steady', 'mzb-1', 'steady', { limit: 10 * GIB, usage: 3 * GIB });
    await activate('mzb-1');
    const runs: string[] = [];
    const step = async (bytes: number) => {
      marzban.setUsage('limited', bytes);
      const { runId, end } = await run();
      assert.equal(end.topic, Topic.RunCompleted);
      runs.push(runId);
      const updated = await eventually(
        () => {
          const e = eventsOf(Topic.UsageConfigUpdated, runId);
          return e.length > 0 ? e : undefined;
        },
        'the run’s usage events',
        20000,
      );
      assert.deepEqual(
        updated.map((e) => e.configId),
        [configs.limited],
        'only the config whose usage changed',
      );
      return { runId, updated: updated[0] };
    };
    const first = await step(5 * GIB);
    assert.deepEqual(first.updated, {
      key: String(configs.limited),
      configId: configs.limited,
      resellerId: reseller2,
      previous: 0,
      current: 5 * GIB,
      delta: 5 * GIB,
      limit: 10 * GIB,
      percent: 50,
    });
    await step(8.5 * GIB);
    await step(9 * GIB);
    await step(10 * GIB);
    await step(12 * GIB);
    const reset = await step(0); // the panel reset the user's traffic
    assert.deepEqual([reset.updated.previous, reset.updated.delta, reset.updated.percent], [12 * GIB, -12 * GIB, 0]);
    const jump = await step(10.5 * GIB);
    const crossings = () => runs.map((runId) => eventsOf(Topic.UsageLimitCrossed, runId).map((e) => e.threshold));
    await eventually(() => (crossings().flat().length >= 4 ? true : undefined), 'the crossing events', 20000);
    await new Promise((r) => setTimeout(r, 1000)); // none more
    assert.deepEqual(crossings(), [[], [80], [], [100], [], [], [80, 100]]);
    const [crossed] = eventsOf(Topic.UsageLimitCrossed, jump.runId);
    assert.deepEqual(crossed, {
      key: String(configs.limited),
      configId: configs.limited,
      resellerId: reseller2,
      threshold: 80,
      usage: 10.5 * GIB,
      limit: 10 * GIB,
    });
    assert.equal((await config('limited')).limit_alert_percent, 100);
  });

  it('POST /api/usage/configs/:id/sync answers the diagnostic: updated, unchanged, hard_failure (usage kept), skipped; 404; 401', async () => {
    marzban.setUsage('diag', 2000);
    await addConfig('diag', 'mzb-1', 'diag', { usage: 500, status: 'disabled' });
    await addConfig('diag-ghost', 'mzb-1', 'diag-ghost', { usage: 321 });
    await addConfig('diag-empty', 'mzb-1', '', { usage: 42 });
    marzban.removeUser('diag-ghost');
    const updated = await api('POST', `/api/usage/configs/${configs.diag}/sync`);
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(updated.body, {
      config_id: configs.diag,
      panel_type: 'marzban',
      status: 'updated',
      fetched_bytes: 2000,
      source_field: 'used_traffic',
      previous_bytes: 500,
      current_bytes: 2000,
      delta_bytes: 1500,
    });
    assert.equal(await usage('diag'), 2000, 'stored, whatever the config status');
    await eventually(
      () =>
        probe
          .messages(Topic.UsageConfigUpdated)
          .find((m) => m.json.payload.configId === configs.diag && m.json.payload.current === 2000),
      'the diagnostic’s usage event',
      20000,
    );
    const unchanged = await api('POST', `/api/usage/configs/${configs.diag}/sync`);
    assert.deepEqual(
      [unchanged.body.status, unchanged.body.fetched_bytes, unchanged.body.previous_bytes, unchanged.body.delta_bytes],
      ['unchanged', 2000, 2000, 0],
    );
    const failed = await api('POST', `/api/usage/configs/${configs['diag-ghost']}/sync`);
    assert.equal(failed.status, 200);
    assert.deepEqual(
      { ...failed.body, error: undefined },
      {
        config_id: configs['diag-ghost'],
        panel_type: 'marzban',
        status: 'hard_failure',
        fetched_bytes: null,
        source_field: null,
        previous_bytes: 321,
        current_bytes: 321,
        delta_bytes: 0,
        error: undefined,
      },
    );
    assert.match(failed.body.error, /^marzban panel mzb-1: HTTP 404/);
    assert.match((await config('diag-ghost')).last_usage_error!, /HTTP 404/);
    const skipped = await api('POST', `/api/usage/configs/${configs['diag-empty']}/sync`);
    assert.deepEqual(skipped.body, {
      config_id: configs['diag-empty'],
      panel_type: 'marzban',
      status: 'skipped',
      fetched_bytes: null,
      source_field: null,
      previous_bytes: 42,
      current_bytes: 42,
      delta_bytes: 0,
      error: 'empty username',
    });
    assert.equal((await api('POST', '/api/usage/configs/999999/sync')).status, 404);
    assert.equal((await api('POST', '/api/usage/configs/abc/sync')).status, 404);
    assert.equal((await api('POST', `/api/usage/configs/${configs.diag}/sync`, null)).status, 401);
  });

  it('at the time limit what was read is saved, the rest counted as not reached, and the run fails as timeout', async () => {
    for (let i = 0; i < 10; i++) {
      slow.addUser(`slow${i}`, { shape: 'total_traffic_bytes', usedBytes: 1000 + i });
      await addConfig(`slow${i}`, 'slow', `slow${i}`);
    }
    await activate('slow');
    const started = Date.now();
    const { end, payload, stats } = await run({ timeLimitMs: 1500 });
    const took = Date.now() - started;
    assert.equal(end.topic, Topic.RunFailed, end.value);
    assert.deepEqual([payload.error.code, payload.error.origin, payload.error.retriable], ['timeout', 'source', false]);
    assert.match(payload.error.message, /time limit of 1\.5 s: \d+ of 10 configs not reached/);
    assert.ok(took < 5000, `stopped at the limit (${took} ms), not after ten 400 ms reads`);
    const synced = (
      await q<{ n: string }>(
        'SELECT COUNT(*) AS n FROM reseller_configs WHERE panel_id = ? AND usage_synced_at IS NOT NULL',
        [panels.slow],
      )
    )[0];
    assert.ok(stats.fetched >= 2 && stats.fetched <= 4, `about 1.5 s / 400 ms reads (${stats.fetched})`);
    assert.equal(Number(synced.n), stats.fetched, 'every read before the limit is saved');
    assert.equal(stats.updated, stats.fetched);
    assert.equal(stats.notReached, 10 - stats.fetched);
    assert.equal(stats.panelTypes.eylandoo.notReached, 10 - stats.fetched);
    assert.equal(probe.forRun(Topic.RunStarted, payload.runId).length, 1, 'not retried');
    assert.match(logs(), /Reseller usage sync stopped at its time limit \(eylandoo_configs_processed: \d/);
    assert.ok(RESELLER_USAGE.timeLimitMs === 600_000 && RESELLER_USAGE.leaseMs === 300_000);
  });

  it('a dead panel is short-circuited: its configs fail fast after a few timeouts while the other panels finish on time', async () => {
    for (let i = 0; i < 40; i++) {
      await addConfig(`dead${i}`, 'dead', `dead${i}`, { usage: 50 });
      healthy.setUsage(`ok${i}`, 10_000 + i);
      await addConfig(`ok${i}`, 'healthy', `ok${i}`);
    }
    await activate('dead', 'healthy');
    hanging.setFaults({ hangNext: 1_000_000, hangMs: 0 }); // every request is held until the client gives up
    const reads = healthy.counters.reads;
    const started = Date.now();
    const runId = await send();
    let healthyDoneAfter = 0;
    await eventually(
      () => (healthy.counters.reads - reads >= 40 ? (healthyDoneAfter = Date.now() - started) : undefined),
      'the healthy panel read',
      20000,
      10,
    );
    const end = await runEnd(runId);
    const took = Date.now() - started;
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.ok(
      healthyDoneAfter < PANEL_TIMEOUT_S * 1000,
      `the healthy panel was read in ${healthyDoneAfter} ms, before the dead one's first timeout`,
    );
    assert.ok(took >= PANEL_TIMEOUT_S * 1000, 'the run waited for the dead panel’s first reads to time out');
    const deadCalls = hanging.counters.requests;
    assert.ok(
      deadCalls <= 8 + 1,
      `the dead panel was called ${deadCalls} times for 40 configs (a login and a few reads)`,
    );
    const { stats } = end.json.payload;
    assert.deepEqual([stats.fetched, stats.updated, stats.failed], [40, 40, 40]);
    const dead = await q<{ n: string; kept: string }>(
      `SELECT COUNT(*) AS n, SUM(usage_bytes = 50) AS kept FROM reseller_configs
        WHERE panel_id = ? AND last_usage_error LIKE '%circuit open%'`,
      [panels.dead],
    );
    assert.ok(Number(dead[0].n) >= 30, `most dead configs failed fast, without a call (${dead[0].n})`);
    assert.equal(Number(dead[0].kept), Number(dead[0].n), 'their usage kept');
    const health = await q<{ name: string; last_success_at: Date | null; last_error: string | null }>(
      'SELECT name, last_success_at, last_error FROM panels WHERE id IN (?, ?) ORDER BY name',
      [panels.dead, panels.healthy],
    );
    assert.equal(health[0].last_success_at, null);
    assert.ok(health[0].last_error, 'the dead panel records its error');
    assert.ok(health[1].last_success_at, 'the healthy panel its success');
    assert.match(logs(), /panel dead \(id \d+\): circuit open after 5 failures in a row/);
    const circuit = async (panelId: number) =>
      ((await api('GET', `/api/usage/panels/${panelId}`)).body as { circuit_state: string }).circuit_state;
    assert.equal(await circuit(panels.dead), 'open', 'the panels API shows the open circuit');
    assert.equal(await circuit(panels.healthy), 'closed');

    // The next run finds the circuit open: no call at all to the dead panel, and no wait.
    const before = hanging.counters.requests;
    const t0 = Date.now();
    const next = await run();
    assert.equal(next.end.topic, Topic.RunCompleted);
    assert.equal(hanging.counters.requests - before, 0, 'not called while its circuit is open');
    assert.ok(Date.now() - t0 < PANEL_TIMEOUT_S * 1000, 'and the run does not wait for it');
  });

  it('a run whose every panel failed is failed (retriable), and tried twice in all', async () => {
    await activate('dead');
    const { end, payload } = await run();
    assert.equal(end.topic, Topic.RunFailed);
    assert.deepEqual(
      [payload.error.code, payload.error.origin, payload.error.retriable],
      ['USAGE_PANELS_FAILED', 'source', true],
    );
    assert.equal(payload.stats.failed, 40, 'the failed event carries the run’s stats');
    assert.equal(probe.forRun(Topic.RunStarted, payload.runId).length, 1, 'one run');
    const tries = logs()
      .split('\n')
      .filter((l) => l.includes(payload.runId) && /try 1 of 2 failed \[source\/USAGE_PANELS_FAILED\]/.test(l));
    assert.equal(tries.length, 1, 'the second try was the last');
  });

  it('no panel secret reaches a log line, a stored error or an event', async () => {
    const stored = JSON.stringify(await q('SELECT last_usage_error FROM reseller_configs'));
    const panelErrors = JSON.stringify(await q('SELECT last_error, settings FROM panels'));
    const events = JSON.stringify(probe.seen.map((m) => m.value));
    const text = logs();
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), 'not in the log');
      assert.ok(!stored.includes(secret) && !panelErrors.includes(secret), 'not in the database errors');
      assert.ok(!events.includes(secret), 'not in an event');
    }
    assert.ok(text.length > 10_000, 'the log was read');
  });
});
