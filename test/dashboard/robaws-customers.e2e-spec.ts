import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RobawsSimulator } from '@sync-hub/simulators';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { Browser, Page } from 'playwright-core';
import { AppProcess, ARTIFACTS, startAppProcess } from '../support/app-process';
import { launchChromium } from '../support/browser';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-dashboard-customers-key-0123';
const SHARED_EMAIL = 'accounts@twins-dashboard.example';

describe('the Robaws customers card in a real browser against the embedded hub (Robaws simulator)', () => {
  let hub: AppProcess;
  let browser: Browser;
  let page: Page;
  let robawsSimulator: string;
  /** The hub's simulator's seeded clients: the same seed here gives the same clients, so the suite knows them. */
  const same = new RobawsSimulator();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-dashboard-customers-'));
  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `dashboard-customers-${name}.png`), fullPage: true });
  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  /** A change made in Robaws by one of its users (the simulator's control, merge-patch semantics). */
  const changeInRobaws = async (id: number, fields: Record<string, unknown>) => {
    const res = await fetch(`${robawsSimulator}/__simulator/clients/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
    assert.equal(res.status, 200);
  };
  /** A client as the hub's Robaws holds it (its API, the simulator's default credentials). */
  const inRobaws = async (id: number) => {
    const res = await fetch(`${robawsSimulator}/api/v2/clients/${id}`, {
      headers: { authorization: `Basic ${Buffer.from(`${same.apiKey}:${same.apiSecret}`).toString('base64')}` },
    });
    assert.equal(res.status, 200);
    return (await res.json()) as {
      name: string;
      tel: string | null;
      email: string | null;
      address: { city: string | null };
    };
  };
  const row = (id: number) => page.locator(`#customers tr[data-id="${id}"]`);
  const search = async (q: string, role = '', dirtyOnly = false) => {
    await page.fill('#customers-q', q);
    await page.fill('#customers-role', role);
    if ((await page.isChecked('#customers-dirty')) !== dirtyOnly) await page.click('#customers-dirty');
    const answered = page.waitForResponse((r) => r.url().includes('/api/crm/customers?'));
    await page.click('#customers-search-button');
    await answered;
  };
  /** A seeded Belgian client with a valid phone, by its stored row. */
  let belgian: { id: number; name: string; phone: string };
  const dupIds = [1002, 1003];

  before(async () => {
    hub = await startAppProcess(
      'embedded',
      {
        GATEWAY_API_KEYS: API_KEY,
        DATA_DIR: dataDir,
        SCHEDULER_RUN_ON_START: 'none',
        SIMULATOR_SPLYNX_CUSTOMERS: '50',
      },
      'dashboard-customers-hub',
    );
    robawsSimulator = /Robaws: +simulator at (http:\/\/\S+)/.exec(fs.readFileSync(hub.logFile, 'utf8'))![1];
    for (const id of dupIds) await changeInRobaws(id, { email: SHARED_EMAIL });
    const started = await api('POST', '/api/syncs/crm/robaws.customers.full/run', { company_id: 1 });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const run = await eventually(
      async () => {
        const r = await api('GET', `/api/runs/${started.body.run_id}`);
        return r.status === 200 && ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
      },
      'the full Robaws pull to end',
      120000,
    );
    assert.equal(run.status, 'completed', JSON.stringify(run));
    // Its primary phone as the pull stores it: the valid tel, else the valid gsm, read in Belgium.
    const valid = (raw: string | null) => {
      const parsed = raw ? parsePhoneNumberFromString(raw, 'BE') : undefined;
      return parsed?.isValid() ? parsed : undefined;
    };
    const found = same
      .clients()
      .filter((c) => c.address.country === 'BE' && c.id > 1010)
      .map((c) => ({ id: c.id, name: c.name, phone: valid(c.tel) ?? valid(c.gsm) }))
      .find((c) => c.phone?.number.startsWith('+32'));
    assert.ok(found, 'a seeded Belgian client with a valid phone number');
    belgian = { id: found.id, name: found.name, phone: found.phone!.number };

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1400 } });
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('lists the customers a page at a time, and the possible duplicates', async () => {
    await page.goto(hub.url);
    await page.fill('#api-key', API_KEY);
    await page.click('#key-form button');
    await page.waitForSelector('#customers tr[data-id]');
    assert.equal(await page.locator('#customers tr[data-id]').count(), 50);
    assert.equal(await page.isVisible('#customers-more'), true);
    await page.click('#customers-more');
    await page.waitForFunction(() => document.querySelectorAll('#customers tr[data-id]').length === 100);
    const group = page.locator(`#customer-duplicates li[data-kind="email"][data-value="${SHARED_EMAIL}"]`);
    await group.waitFor();
    const text = await group.innerText();
    for (const id of dupIds) assert.ok(text.includes(`(${id})`), `${text} names ${id}`);
    assert.match(text, /^Email accounts@twins-dashboard\.example: /);
    await shot('1-list');
  });

  it('searches by a phone number typed nationally, and by name', async () => {
    const national = parsePhoneNumberFromString(belgian.phone)!.formatNational();
    await search(national);
    await row(belgian.id).waitFor();
    assert.equal(await row(belgian.id).locator('td.phone').innerText(), belgian.phone);
    await search(belgian.name);
    await row(belgian.id).waitFor();
    for (const name of await page.locator('#customers tr[data-id] td.name').allInnerTexts())
      assert.ok(name.toLowerCase().includes(belgian.name.toLowerCase()), `${name} matches ${belgian.name}`);
    await search('no customer is called this');
    await page.waitForSelector('#customers tr.none');
  });

  it('filters by role: every row shown has it', async () => {
    await search('', 'SUPPLIER');
    await page.waitForSelector('#customers tr[data-id]');
    const roles = await page.locator('#customers tr[data-id] td.role').allInnerTexts();
    assert.ok(roles.length > 0);
    assert.deepEqual([...new Set(roles)], ['SUPPLIER']);
  });

  it('an edit with a bad email names the field and saves nothing; a good one is normalised and marked edited', async () => {
    await search(belgian.name);
    await row(belgian.id)
      .getByRole('button', { name: `Edit ${belgian.name}` })
      .click();
    await page.waitForSelector('#customer-form:not([hidden])');
    await page.fill('#customer-fields input[name="email"]', 'not an email');
    await page.click('#save-customer');
    await page.waitForSelector(
      '#customer-fields label[data-field="email"] .field-error:has-text("not an email address")',
    );
    assert.match(await page.locator('#customer-form-error').innerText(), /^Not saved: email: /);
    assert.equal((await api('GET', `/api/crm/customers/${belgian.id}`)).body.dirty, false, 'nothing saved');

    await page.fill('#customer-fields input[name="email"]', 'Billing@Example.COM');
    await page.fill('#customer-fields input[name="tel"]', '0470 12 34 56');
    await page.fill('#customer-fields input[name="city"]', 'Gent');
    await page.click('#save-customer');
    await page.waitForFunction(() =>
      document.querySelector('#customer-result')?.textContent?.includes('marked edited'),
    );
    assert.equal(await page.getAttribute('#customer-result', 'role'), 'status');
    assert.match(await page.locator('#customer-result').innerText(), /marked edited \(email, tel, city\)/);
    assert.equal(await page.isVisible('#customer-form'), false);
    await page.waitForSelector(`#customers tr[data-id="${belgian.id}"] .marker.dirty`);
    assert.equal(await row(belgian.id).locator('td.email').innerText(), 'billing@example.com');
    assert.equal(await row(belgian.id).locator('td.phone').innerText(), '+32470123456');
    const stored = (await api('GET', `/api/crm/customers/${belgian.id}`)).body;
    assert.deepEqual(Object.keys(stored.local_edit.fields), ['email', 'tel', 'city']);

    // "Edited or in conflict only": this customer alone.
    await search('', '', true);
    assert.deepEqual(
      await page
        .locator('#customers tr[data-id]')
        .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id)),
      [String(belgian.id)],
    );
    await shot('2-edited');
  });

  it('Sync pulls one customer from Robaws now: the row shows what Robaws has', async () => {
    const other = same.clients().find((c) => c.id > 1010 && c.id !== belgian.id)!;
    await changeInRobaws(other.id, { name: 'Renamed in Robaws NV' });
    await search(other.name);
    await row(other.id).waitFor();
    await row(other.id)
      .getByRole('button', { name: `Sync ${other.name}` })
      .click();
    await page.waitForFunction(() => document.querySelector('#customer-result')?.textContent?.includes('is synced'));
    assert.match(
      await page.locator('#customer-result').innerText(),
      /^Renamed in Robaws NV is synced from Robaws \(run [0-9a-f]{8} completed\)\.$/,
    );
    await search('Renamed in Robaws NV');
    await row(other.id).waitFor();
    assert.equal(await row(other.id).locator('td.name').innerText(), 'Renamed in Robaws NV');
    await shot('3-synced');
  });
  it('Push sends the edit to Robaws now: the marker goes, and Robaws has the change', async () => {
    await search(belgian.name);
    await row(belgian.id)
      .getByRole('button', { name: `Push ${belgian.name}` })
      .click();
    await page.waitForFunction(() => document.querySelector('#customer-result')?.textContent?.includes('is pushed'));
    assert.match(
      await page.locator('#customer-result').innerText(),
      /is pushed to Robaws \(run [0-9a-f]{8} completed\)\.$/,
    );
    await page.waitForSelector(`#customers tr[data-id="${belgian.id}"][data-dirty="false"]`);
    assert.equal(await row(belgian.id).locator('.marker').count(), 0);
    const there = await inRobaws(belgian.id);
    assert.deepEqual([there.email, there.tel, there.address.city], ['billing@example.com', '+32470123456', 'Gent']);
    await shot('4-pushed');
  });

  it('a conflict: Push says Robaws changed it; Resolve shows both versions; Keep Robaws ends it', async () => {
    const other = same.clients().find((c) => c.id > 1100 && c.id !== belgian.id && c.name)!;
    await search(other.name);
    await row(other.id)
      .getByRole('button', { name: `Edit ${other.name}` })
      .click();
    await page.fill('#customer-fields input[name="city"]', 'Edited Here');
    await page.click('#save-customer');
    await page.waitForSelector(`#customers tr[data-id="${other.id}"] .marker.dirty`);
    await changeInRobaws(other.id, { address: { city: 'Changed In Robaws' } });
    await row(other.id)
      .getByRole('button', { name: `Push ${other.name}` })
      .click();
    await page.waitForFunction(() =>
      document.querySelector('#customer-result')?.textContent?.includes('Robaws changed it meanwhile'),
    );
    assert.equal(await page.getAttribute('#customer-result', 'role'), 'alert');
    await page.waitForSelector(`#customers tr[data-id="${other.id}"] .marker.conflict`);
    await row(other.id)
      .getByRole('button', { name: `Resolve ${other.name}` })
      .click();
    await page.waitForSelector('#customer-conflict:not([hidden])');
    const city = page.locator('#customer-conflict-fields tr[data-field="city"]');
    assert.equal(await city.locator('td.local').innerText(), 'Edited Here');
    assert.equal(await city.locator('td.remote').innerText(), 'Changed In Robaws');
    await shot('5-conflict');
    await page.click('#keep-remote');
    await page.waitForFunction(() => document.querySelector('#customer-result')?.textContent?.includes('is kept'));
    assert.match(await page.locator('#customer-result').innerText(), /Robaws's version is kept, the edit dropped\.$/);
    await page.waitForSelector(`#customers tr[data-id="${other.id}"][data-dirty="false"]`);
    assert.equal((await inRobaws(other.id)).address.city, 'Changed In Robaws');
    const stored = (await api('GET', `/api/crm/customers/${other.id}`)).body;
    assert.deepEqual([stored.city, stored.conflict, stored.local_edit], ['Changed In Robaws', null, null]);
  });
});
