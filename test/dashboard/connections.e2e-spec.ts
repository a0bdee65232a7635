import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { AppProcess, ARTIFACTS, startAppProcess } from '../support/app-process';
import { launchChromium } from '../support/browser';
import { eventually, freePort } from '../support/wait';

const API_KEY = 'e2e-dashboard-connections-key-0123';
const RED = 'rgb(179, 38, 30)';

describe('the Connections card in a real browser against the embedded hub (QuickBooks and DevPos simulators)', () => {
  let hub: AppProcess;
  let browser: Browser;
  let page: Page;
  /** The dashboard as Intuit's redirect reaches it: the simulated app's redirect URI is on localhost. */
  let origin: string;
  let quickbooksSimulator: string;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-dashboard-connections-'));
  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `dashboard-connections-${name}.png`), fullPage: true });
  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const panel = (provider: string) => page.locator(`[data-company="1"] .connection.${provider}`);
  const status = (provider: string) => panel(provider).locator('.conn-status');

  before(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    // No QBO_* or DEVPOS_* settings: the hub connects company 1 to its simulators, as `npm start` does.
    hub = await startAppProcess(
      'embedded',
      {
        PORT: String(port),
        GATEWAY_API_KEYS: API_KEY,
        DATA_DIR: dataDir,
        SCHEDULER_RUN_ON_START: 'none',
        SIMULATOR_SPLYNX_CUSTOMERS: '50',
      },
      'dashboard-connections-hub',
    );
    // The start-up banner names the simulator (its test controls are how the test moves its clock).
    quickbooksSimulator = /QuickBooks: simulator at (http:\/\/\S+)/.exec(fs.readFileSync(hub.logFile, 'utf8'))![1];
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it("shows company 1's QuickBooks and DevPos connections, each status in words", async () => {
    await page.goto(origin);
    await page.fill('#api-key', API_KEY);
    await page.click('#key-form button');
    await page.waitForSelector('[data-company="1"] .connection.quickbooks[data-status="ok"]');
    assert.match(await page.locator('[data-company="1"] h3').innerText(), /^Company 1$/);
    assert.equal(await status('quickbooks').innerText(), 'Connected');
    const qbo = await panel('quickbooks').innerText();
    assert.match(qbo, /Realm\s+9130350000000001 \(sandbox\)/);
    assert.match(qbo, /Access token expires\s+not fetched yet/, 'seeded from the environment, not used yet');
    const reconnect = panel('quickbooks').getByRole('button', { name: 'Reconnect QuickBooks for company 1' });
    assert.equal(await reconnect.count(), 1, 'Reconnect is a button with a name that says which company');
    assert.equal(await status('devpos').innerText(), 'Connected');
    assert.match(await panel('devpos').innerText(), /Tenant\s+L91234567A[\s\S]*User\s+sim-user/);
    assert.equal(await page.isVisible('#oauth-result'), false, 'no banner without a redirect');
    await shot('1-connected');
  });

  it('a grant Intuit refuses and a DevPos login it refuses are "Reconnect required" in red, with the reasons', async () => {
    // 102 simulated days: the seeded refresh token (101 days) has lapsed; the daily check then meets invalid_grant.
    const advanced = await fetch(`${quickbooksSimulator}/__simulator/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seconds: 102 * 86400 }),
    });
    assert.equal(advanced.status, 200);
    const run = await api('POST', '/api/syncs/accounting/accounting.connections.check/run', { company_id: 1 });
    assert.equal(run.status, 202, JSON.stringify(run.body));
    const ended = await eventually(
      async () => {
        const r = await api('GET', `/api/runs/${run.body.run_id}`);
        return r.status === 200 && ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
      },
      'the connections check to end',
      30000,
    );
    assert.equal(ended.status, 'failed');
    assert.equal(ended.error.code, 'REAUTH_REQUIRED');
    const devpos = await api('PUT', '/api/companies/1/connections/devpos', {
      username: 'sim-user',
      password: 'a-wrong-password',
      tenant: 'L91234567A',
    });
    assert.equal(devpos.body.status, 'reauth_required');

    await page.reload();
    await page.waitForSelector('[data-company="1"] .connection.quickbooks[data-status="reauth_required"]');
    assert.match(
      await status('quickbooks').innerText(),
      /^Reconnect required \(reauth_required\): Intuit refused the refresh token \(invalid_grant/,
    );
    await page.waitForSelector('[data-company="1"] .connection.devpos[data-status="reauth_required"]');
    assert.match(
      await status('devpos').innerText(),
      /^Reconnect required \(reauth_required\): DevPos refused the login of company 1/,
    );
    for (const provider of ['quickbooks', 'devpos'])
      assert.equal(await status(provider).evaluate((e) => getComputedStyle(e).color), RED, `${provider} in red`);
    await shot('2-reconnect-required');
  });

  it('Reconnect goes through Intuit and back: a banner says QuickBooks is connected, with fresh expiries', async () => {
    await panel('quickbooks').getByRole('button', { name: 'Reconnect QuickBooks for company 1' }).click();
    await page.waitForSelector('#oauth-result:not([hidden])');
    assert.equal(await page.locator('#oauth-result-text').innerText(), 'QuickBooks is connected for company 1.');
    assert.equal(await page.getAttribute('#oauth-result', 'role'), 'status');
    assert.equal(new URL(page.url()).search, '', 'the result is not announced again on reload');
    await page.waitForSelector('[data-company="1"] .connection.quickbooks[data-status="ok"]');
    const qbo = await panel('quickbooks').innerText();
    assert.doesNotMatch(qbo, /not fetched yet/);
    assert.match(qbo, /Refresh token\s+expires in 100 days/);
    assert.equal(await status('quickbooks').innerText(), 'Connected');
    assert.notEqual(await status('quickbooks').evaluate((e) => getComputedStyle(e).color), RED);
    await shot('3-reconnected');
  });

  it('a declined authorization lands on the dashboard with the reason in an alert', async () => {
    const authorize = await api('GET', '/api/companies/1/connections/quickbooks/authorize');
    assert.equal(authorize.status, 200);
    const state = new URL(authorize.body.url).searchParams.get('state')!;
    await page.goto(`${origin}/oauth/quickbooks/callback?error=access_denied&state=${encodeURIComponent(state)}`);
    await page.waitForSelector('#oauth-result.failed:not([hidden])');
    assert.equal(
      await page.locator('#oauth-result-text').innerText(),
      'QuickBooks was not connected for company 1: Intuit answered access_denied',
    );
    assert.equal(await page.getAttribute('#oauth-result', 'role'), 'alert');
    await shot('4-declined');
    await page.getByRole('button', { name: 'Dismiss' }).click();
    assert.equal(await page.isVisible('#oauth-result'), false);
  });
});
