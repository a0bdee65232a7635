import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ARTIFACTS } from '../support/app-process';
import { eventually, freePort } from '../support/wait';
import { childEnv } from '../support/env';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EMBEDDED = path.join(ROOT, 'dist', 'apps', 'embedded', 'main.js');
const KEY = 'embedded-usage-seed-key-0001';
const GIB = 1024 ** 3;
/** Credentials the simulators use: sealed at rest, never in an answer. */
const SECRETS = ['sim-eylandoo-key-0001', 'sim-marzban-password-0001', 'sim-marzneshin-password', 'sim-3x-ui-password'];

interface Host {
  child: ChildProcess;
  url: string;
  output: () => string;
}

interface PanelView {
  id: number;
  name: string;
  type: string;
  url: string;
  active: boolean;
  credentials_set: string[] | null;
}
interface ConfigView {
  id: number;
  reseller_id: number;
  panel_id: number;
  external_username: string;
  usage_bytes: number;
  traffic_limit_bytes: number | null;
  usage_percent: number | null;
  usage_synced_at: string | null;
  last_usage_error: string | null;
}
interface TypeStats {
  processed: number;
  updated: number;
  unchanged: number;
  hardFailures: number;
  skipped: number;
  notReached: number;
}
interface RunView {
  status: string;
  skip_reason: string | null;
  stats: { fetched: number; skipped: number; failed: number; panelTypes: Record<string, TypeStats> };
}

const hosts: ChildProcess[] = [];
const dirs: string[] = [];

function dataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-usage-seed-'));
  dirs.push(dir);
  return dir;
}

/** Not exited yet (a child ended by a signal has a `signalCode` and no `exitCode`). */
const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

async function stop(child: ChildProcess): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** `node dist/apps/embedded/main.js` on a free port; resolves once its banner shows the usage line. */
async function startHost(dir: string, env: Record<string, string> = {}): Promise<Host> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [EMBEDDED], {
    cwd: ROOT,
    env: {
      ...childEnv(),
      HOME: process.env.HOME ?? os.tmpdir(),
      PORT: String(port),
      DATA_DIR: dir,
      GATEWAY_API_KEYS: KEY,
      SIMULATOR_SPLYNX_CUSTOMERS: '20',
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  hosts.push(child);
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.once('exit', () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.appendFileSync(path.join(ARTIFACTS, 'embedded-usage-seed.log'), output);
  });
  await eventually(
    () => {
      if (!running(child)) throw new Error(`the host exited (${child.exitCode}):\n${output}`);
      return /^ {2}Usage: .*$/m.test(output) ? true : undefined;
    },
    'the banner with its Usage line',
    120000,
  );
  return { child, url: `http://127.0.0.1:${port}`, output: () => output };
}

async function api<T>(host: Host, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${host.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const panels = async (host: Host) => (await api<{ data: PanelView[] }>(host, 'GET', '/api/usage/panels')).data;
const configs = async (host: Host) =>
  (await api<{ data: ConfigView[]; next_cursor: string | null }>(host, 'GET', '/api/usage/configs?limit=500')).data;
const resellers = async (host: Host) =>
  (await api<{ data: Array<{ name: string; config_count: number }> }>(host, 'GET', '/api/usage/resellers')).data;

/** A manual reseller.usage run to its end; one skipped because a scheduled tick holds the lease is asked again. */
async function runUsage(host: Host): Promise<RunView> {
  return eventually(
    async () => {
      const { run_id } = await api<{ run_id: string }>(host, 'POST', '/api/syncs/usage/reseller.usage/run', {});
      const run = await eventually(
        async () => {
          const res = await fetch(`${host.url}/api/runs/${run_id}`, { headers: { authorization: `Bearer ${KEY}` } });
          const view = res.ok ? ((await res.json()) as RunView) : undefined;
          return view && ['completed', 'failed', 'skipped'].includes(view.status) ? view : undefined;
        },
        `run ${run_id} to end`,
        60000,
      );
      return run.status === 'skipped' ? undefined : run;
    },
    'a reseller.usage run that was not skipped',
    90000,
    1000,
  );
}

const typeCounts = (s: TypeStats) => [s.processed, s.skipped, s.hardFailures, s.updated + s.unchanged, s.notReached];

describe('the embedded mode seeds the usage sync: resellers, a panel per simulated panel type, 300 configs', () => {
  after(async () => {
    for (const child of hosts) await stop(child);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  const dir = dataDir();
  let before: { panels: PanelView[]; usage: Map<number, number> } | null = null;

  it('a first start seeds the tables, and a reseller.usage run shows updates, skips and hard failures of every type', async () => {
    const host = await startHost(dir);
    assert.match(
      host.output(),
      /^ {2}Usage: {3}5 VPN panel simulators \(Eylandoo, Marzban, Marzneshin, 3x-ui legacy and v3\.1\); seeded 3 resellers, 5 panels, 300 configs$/m,
    );

    const seededResellers = await resellers(host);
    assert.deepEqual(
      seededResellers.map((r) => r.name),
      ['Demo reseller North', 'Demo reseller South', 'Demo reseller West'],
    );
    assert.equal(
      seededResellers.reduce((sum, r) => sum + r.config_count, 0),
      300,
    );

    const seededPanels = await panels(host);
    assert.deepEqual(
      seededPanels.map((p) => [p.name, p.type, p.active, p.credentials_set]),
      [
        ['Eylandoo (simulator)', 'eylandoo', true, ['api_key']],
        ['Marzban (simulator)', 'marzban', true, ['username', 'password']],
        ['Marzneshin (simulator)', 'marzneshin', true, ['username', 'password']],
        ['3x-ui legacy (simulator)', '3x-ui', true, ['username', 'password']],
        ['3x-ui v3.1 (simulator)', '3x-ui', true, ['api_token']],
      ],
    );
    for (const p of seededPanels) assert.match(p.url, /^http:\/\/127\.0\.0\.1:\d+\/?$/);
    const answered = JSON.stringify(seededPanels);
    for (const secret of [...SECRETS, 'sim-3x-ui-api-token-0001'])
      assert.ok(!answered.includes(secret), 'no credential in the panels answer');

    const seeded = await configs(host);
    assert.equal(seeded.length, 300);
    assert.equal(seeded.filter((c) => c.external_username === '').length, 5, 'one empty username per panel');
    assert.equal(seeded.filter((c) => c.external_username === 'user_deleted').length, 5, 'one unknown user per panel');
    assert.ok(seeded.every((c) => c.usage_bytes === 0 && c.usage_synced_at === null));
    assert.equal(new Set(seeded.map((c) => c.reseller_id)).size, 3, 'the configs are spread over the resellers');

    const run = await runUsage(host);
    assert.equal(run.status, 'completed', JSON.stringify(run));
    assert.deepEqual(
      Object.fromEntries(Object.entries(run.stats.panelTypes).map(([type, s]) => [type, typeCounts(s)])),
      {
        eylandoo: [60, 1, 1, 58, 0],
        marzban: [60, 1, 1, 58, 0],
        marzneshin: [60, 1, 1, 58, 0],
        '3x-ui': [120, 2, 2, 116, 0],
      },
    );
    assert.deepEqual([run.stats.fetched, run.stats.skipped, run.stats.failed], [290, 5, 5]);

    const synced = await configs(host);
    const failing = synced.filter((c) => c.last_usage_error !== null);
    assert.deepEqual(
      failing.map((c) => c.external_username),
      Array(5).fill('user_deleted'),
      'the unknown users, and only they, are hard failures',
    );
    assert.ok(
      synced.filter((c) => c.external_username === '').every((c) => c.usage_synced_at === null),
      'an empty username is skipped',
    );
    const shares = synced.map((c) => c.usage_percent).filter((p): p is number => p !== null);
    const near80 = shares.filter((p) => p >= 75 && p < 80).length;
    const past80 = shares.filter((p) => p >= 80 && p < 100).length;
    const past100 = shares.filter((p) => p >= 100).length;
    assert.ok(
      near80 > 0 && past80 > 0 && past100 > 0,
      `shares near and past 80 % and 100 %: ${near80}/${past80}/${past100}`,
    );
    assert.ok(past80 + past100 < shares.length / 3, 'most configs sit below 80 %');
    assert.ok(
      synced.some((c) => c.traffic_limit_bytes === null && c.usage_bytes > GIB),
      'unlimited configs too',
    );

    // A second run: the panels' counters grew, so usage goes up.
    const second = await runUsage(host);
    assert.equal(second.status, 'completed');
    assert.ok(second.stats.panelTypes.marzban.updated > 0);

    // An operator points a seeded panel at a real address: a restart must leave it alone.
    const legacy = seededPanels.find((p) => p.name === '3x-ui legacy (simulator)')!;
    await api(host, 'PATCH', `/api/usage/panels/${legacy.id}`, { url: 'https://xui.example.invalid/', active: false });
    before = {
      panels: await panels(host),
      usage: new Map((await configs(host)).map((c) => [c.id, c.usage_bytes])),
    };
    await stop(host.child);

    const file = fs.readFileSync(path.join(dir, 'sync-hub.sqlite')).toString('latin1');
    assert.ok(file.includes('Marzban (simulator)'), 'the panels are in the SQLite file');
    for (const secret of SECRETS) assert.ok(!file.includes(secret), 'credentials are sealed at rest');
  });

  it('a restart seeds nothing again, points the seeded panels at the new simulators and carries on from the stored usage', async () => {
    assert.ok(before, 'the first start ran');
    const host = await startHost(dir);
    assert.match(
      host.output(),
      /^ {2}Usage: {3}5 VPN panel simulators .*; stored resellers, panels and configs kept \(4 seeded panels pointed at the simulators\)$/m,
    );
    assert.equal((await resellers(host)).length, 3, 'no reseller added');
    const restarted = await panels(host);
    assert.deepEqual(
      restarted.map((p) => p.id),
      before.panels.map((p) => p.id),
      'no panel added',
    );
    for (const p of restarted) {
      const was: PanelView = before.panels.find((b) => b.id === p.id)!;
      if (p.name === '3x-ui legacy (simulator)') {
        assert.equal(p.url, 'https://xui.example.invalid/', 'a seeded panel moved to a real address is left alone');
        assert.equal(p.active, false);
      } else {
        assert.match(p.url, /^http:\/\/127\.0\.0\.1:\d+\/?$/);
        assert.notEqual(p.url, was.url, `${p.name} follows its simulator's new port`);
        assert.deepEqual(p.credentials_set, was.credentials_set, 'the sealed credentials still open');
      }
    }
    assert.equal((await configs(host)).length, 300, 'no config added');

    const run = await runUsage(host);
    assert.equal(run.status, 'completed', JSON.stringify(run));
    assert.deepEqual(
      Object.fromEntries(Object.entries(run.stats.panelTypes).map(([type, s]) => [type, typeCounts(s)])),
      {
        eylandoo: [60, 1, 1, 58, 0],
        marzban: [60, 1, 1, 58, 0],
        marzneshin: [60, 1, 1, 58, 0],
        '3x-ui': [60, 1, 1, 58, 0],
      },
      'the panels answer again (the inactive one is not read)',
    );
    const dropped = (await configs(host)).filter((c) => c.usage_bytes < before!.usage.get(c.id)!);
    assert.deepEqual(dropped, [], "the simulators carried on from the stored usage: no config's usage went down");

    const one = (await configs(host)).find((c) => c.external_username === 'user1' && c.panel_id === restarted[1].id)!;
    const diagnostic = await api<{ status: string; delta_bytes: number }>(
      host,
      'POST',
      `/api/usage/configs/${one.id}/sync`,
    );
    assert.ok(['updated', 'unchanged'].includes(diagnostic.status) && diagnostic.delta_bytes >= 0);
    await stop(host.child);
  });

  it('EMBEDDED_SEED_USAGE=false starts no panel simulator and leaves the usage tables empty', async () => {
    const host = await startHost(dataDir(), { EMBEDDED_SEED_USAGE: 'false' });
    assert.match(host.output(), /^ {2}Usage: {3}no panel simulators, nothing seeded \(EMBEDDED_SEED_USAGE=false\)$/m);
    assert.deepEqual(await resellers(host), []);
    assert.deepEqual(await panels(host), []);
    assert.deepEqual(await configs(host), []);
    await stop(host.child);
  });

  it('an EMBEDDED_SEED_USAGE other than true or false stops the start, naming it', async () => {
    const child = spawn(process.execPath, [EMBEDDED], {
      cwd: ROOT,
      env: {
        ...childEnv(),
        HOME: process.env.HOME ?? os.tmpdir(),
        DATA_DIR: dataDir(),
        EMBEDDED_SEED_USAGE: 'yes',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    hosts.push(child);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.notEqual(code, 0);
    assert.match(output, /EMBEDDED_SEED_USAGE/);
  });
});
