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

// run-tests: alone. `npm start` builds, replacing dist/ under every other test file: scripts/run-tests.js runs this
// file before its lanes start.

describe('the embedded mode, started as a user would (npm start)', () => {
  let child: ChildProcess | null = null;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-embedded-'));

  after(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); // the hub may still be saving its file
  });

  it('6. prints the URL and API key and shows a completed Splynx run through GET /api/runs', async () => {
    const port = await freePort();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const logFile = path.join(ARTIFACTS, 'embedded-npm-start.log');
    let output = '';
    // No KAFKA_BROKERS, DATABASE_URL, SPLYNX_URL or GATEWAY_API_KEYS: the defaults a first-time user gets.
    child = spawn('npm', ['start'], {
      cwd: ROOT,
      env: {
        ...childEnv(),
        HOME: process.env.HOME ?? os.tmpdir(),
        PORT: String(port),
        DATA_DIR: dataDir,
      },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.once('exit', () => fs.writeFileSync(logFile, output));

    const key = await eventually(() => /API key[^:]*: (\S+)/.exec(output)?.[1], 'the API key on stdout', 120000);
    assert.match(output, new RegExp(`running at http://localhost:${port}`));

    const unauthorized = await fetch(`http://127.0.0.1:${port}/api/runs`);
    assert.equal(unauthorized.status, 401, 'the API needs the key');

    const run = await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/api/runs`, { headers: { authorization: `Bearer ${key}` } });
        const body = (await res.json()) as {
          data: Array<{ status: string; domain: string; job: string; stats: Record<string, number> }>;
        };
        return body.data.find((r) => r.domain === 'splynx' && r.job === 'customers' && r.status === 'completed');
      },
      'a completed splynx run in GET /api/runs',
      60000,
    );
    assert.equal(run.stats.fetched, 2000, 'the simulator is seeded with 2,000 customers');
    assert.equal(run.stats.created + run.stats.updated + run.stats.unchanged, 2000);
    assert.equal(run.stats.failed, 0);
    assert.ok(fs.existsSync(path.join(dataDir, 'sync-hub.sqlite')), 'the SQLite file is under DATA_DIR');
    // The scheduler's company routes, served in the same process (no gateway forwarding in this mode).
    const companies = await fetch(`http://127.0.0.1:${port}/api/companies`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(companies.status, 200);
    assert.deepEqual(
      ((await companies.json()) as Array<{ id: number; name: string; timezone: string }>).map((c) => [
        c.id,
        c.name,
        c.timezone,
      ]),
      [[1, 'Company 1', 'Europe/Tirane']],
    );
    // Without QuickBooks or DevPos configuration, company 1 is connected to their simulators at start.
    const connections = await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/api/companies/1/connections`, {
          headers: { authorization: `Bearer ${key}` },
        });
        return res.status === 200 ? ((await res.json()) as Array<Record<string, any>>) : undefined;
      },
      "company 1's connections (once accounting-sync's projection has the company)",
      30000,
    );
    assert.deepEqual(
      connections.map((c) => [c.provider, c.connected, c.status]),
      [
        ['quickbooks', true, 'ok'],
        ['devpos', true, 'ok'],
      ],
    );
    assert.match(output, /QuickBooks: simulator at http:\/\/127\.0\.0\.1:\d+ \(company 1 connected/);
    // The usage sync's panels: seeded on the VPN panel simulators at a first start (test/embedded/usage-seed).
    // Its line comes after the banner, once the seed is written.
    await eventually(() => (/^ {2}Usage: /m.test(output) ? true : undefined), 'the Usage line', 60000);
    assert.match(output, /Usage: +5 VPN panel simulators .*; seeded 3 resellers, 5 panels, 300 configs/);
    assert.ok(fs.existsSync(path.join(dataDir, 'secrets.key')), 'the generated SECRETS_KEY is kept under DATA_DIR');
    assert.equal(fs.statSync(path.join(dataDir, 'secrets.key')).mode & 0o777, 0o600);
    fs.writeFileSync(logFile, output);
  });
});
