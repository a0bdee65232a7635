import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Browser, Page } from 'playwright-core';
import { AppProcess, ARTIFACTS, startAppProcess } from '../support/app-process';
import { launchChromium } from '../support/browser';

const API_KEY = 'e2e-dashboard-key-0123456789';

describe('the dashboard in a real browser (Debian chromium, playwright-core) against the hub', () => {
  let hub: AppProcess;
  let browser: Browser;
  let page: Page;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-dashboard-'));
  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });

  before(async () => {
    // The embedded host: every app in one process over HTTP, with the Splynx simulator (so "run now" completes).
    hub = await startAppProcess(
      'embedded',
      {
        GATEWAY_API_KEYS: API_KEY,
        DATA_DIR: dataDir,
        SCHEDULER_RUN_ON_START: 'none',
        SIMULATOR_SPLYNX_CUSTOMERS: '300',
      },
      'dashboard-hub',
    );
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }); // the hub may still be saving its file
  });

  it('asks for the key once, then shows status tiles and the seeded schedules', async () => {
    await page.goto(hub.url);
    await page.waitForSelector('#key-form');
    await page.fill('#api-key', 'not-the-key-0123456789');
    await page.click('#key-form button');
    await page.waitForSelector('#key-error:has-text("not accepted")');
    await page.fill('#api-key', API_KEY);
    await page.click('#key-form button');
    await page.waitForSelector('#status .tile');
    await page.waitForSelector('#schedules tbody tr[data-job="splynx/customers"]');
    assert.equal(await page.locator('#schedules tbody tr').count(), 10);
    // Nothing ran at start (SCHEDULER_RUN_ON_START=none): the seeded jobs wait for their first run, not "healthy".
    await page.waitForSelector('#status .tile.pending');
    assert.match(
      await page.locator('#status .tile.pending').first().innerText(),
      /PENDING[\s\S]*scheduled, not run yet/,
    );
    const unproven = page.locator('#status .tile.healthy', { hasText: 'no success yet' });
    assert.equal(await unproven.count(), 0, 'no job is healthy before any success');
    await page.reload();
    await page.waitForSelector('#status .tile');
    assert.equal(await page.isVisible('#key-form'), false, 'the key is kept for the browser session');
    await shot('1-opened');
  });

  it('creates a weekly schedule, toggles it and sees the next-run text change, runs it now and sees the run completed', async () => {
    // A second company, made through the API (a schedule's company must exist): the first one after the seeded 1.
    const company = await fetch(`${hub.url}/api/companies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Second company' }),
    });
    assert.equal(company.status, 201);
    assert.equal(((await company.json()) as { id: number }).id, 2);
    await page.fill('#company', '2');
    await page.dispatchEvent('#company', 'change');
    await page.selectOption('#domain', 'splynx');
    await page.selectOption('#job-type', 'customers');
    await page.selectOption('#frequency', 'weekly');
    await page.selectOption('#day-of-week', '1');
    await page.fill('#time', '08:30');
    await page.selectOption('#date-range', '7');
    await page.click('#save-schedule');
    const row = page.locator('#schedules tbody tr[data-job="splynx/customers"]');
    await row.waitFor();
    assert.match(await row.locator('td').nth(1).innerText(), /Weekly, Monday at 08:30/);
    assert.match(await row.locator('td').nth(2).innerText(), /Last 7 days/);
    assert.match(await row.locator('.next-run').innerText(), /^Next sync: .+ at 8:30 AM$/);
    await shot('2-created');

    await row.locator('.toggle').uncheck();
    await page.waitForFunction(
      () =>
        document.querySelector('#schedules tbody tr[data-job="splynx/customers"] .next-run')?.textContent ===
        'Disabled',
    );
    await row.locator('.toggle').check();
    await page.waitForFunction(() =>
      /^Next sync: /.test(
        document.querySelector('#schedules tbody tr[data-job="splynx/customers"] .next-run')?.textContent ?? '',
      ),
    );
    await shot('3-toggled');

    const tile = page.locator('#status .tile', { hasText: 'splynx/customers' }).filter({ hasText: 'company 2' });
    assert.match((await tile.getAttribute('class')) ?? '', /\bpending\b/, 'the new schedule has not run yet');
    assert.match(await tile.innerText(), /scheduled, not run yet; first run /);

    await row.locator('.run-now').click();
    const run = page
      .locator('#runs tbody tr', { hasText: 'splynx/customers' })
      .filter({ has: page.locator('td.status-completed') });
    await run.first().waitFor({ timeout: 30000 });
    assert.match(await run.first().innerText(), /manual/);
    assert.match(await run.first().innerText(), /fetched 300/);
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#status .tile.healthy')].some(
        (t) => /splynx\/customers/.test(t.textContent ?? '') && /company 2/.test(t.textContent ?? ''),
      ),
    );
    assert.match(await tile.innerText(), /last success /);
    await shot('4-run-completed');
  });
});
