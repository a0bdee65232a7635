import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEVPOS_ZONE, DevposDocument, DevposSimulator } from '@sync-hub/simulators';
import { DateTime } from 'luxon';
import { Browser, Page } from 'playwright-core';
import { AppProcess, ARTIFACTS, startAppProcess } from '../support/app-process';
import { launchChromium } from '../support/browser';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-dashboard-documents-key-0123';

describe('the Accounting documents card in a real browser against the embedded hub (QuickBooks and DevPos simulators)', () => {
  let hub: AppProcess;
  let browser: Browser;
  let page: Page;
  let quickbooksSimulator: string;
  let devposSimulator: string;
  /** The three days this suite syncs, and the documents QuickBooks is told to refuse. */
  let range: { from: string; to: string };
  let refusedSales: DevposDocument[];
  let refusedPurchase: DevposDocument;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-dashboard-documents-'));
  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `dashboard-documents-${name}.png`), fullPage: true });
  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  /** The QuickBooks simulator's own control: refuse a document number (6140 on DocNumber), or lift it. */
  const refusal = async (docNumber: string, lift = false) => {
    const res = await fetch(`${quickbooksSimulator}/__simulator/document-refusals${lift ? '/delete' : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ docNumber }),
    });
    assert.equal(res.status, lift ? 204 : 200);
  };
  const startRun = async (job: string) => {
    const started = await api('POST', `/api/syncs/accounting/${job}/run`, { company_id: 1, params: range });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    return started.body.run_id as string;
  };
  const runToEnd = async (job: string) => {
    const runId = await startRun(job);
    return eventually(
      async () => {
        const r = await api('GET', `/api/runs/${runId}`);
        return r.status === 200 && ['completed', 'failed'].includes(r.body.status) ? r.body : undefined;
      },
      `the ${job} run to end`,
      60000,
    );
  };
  const failedRow = (d: DevposDocument) => page.locator(`#failed-documents tr[data-eic="${d.eic}"]`);

  before(async () => {
    hub = await startAppProcess(
      'embedded',
      {
        GATEWAY_API_KEYS: API_KEY,
        DATA_DIR: dataDir,
        SCHEDULER_RUN_ON_START: 'none',
        SIMULATOR_SPLYNX_CUSTOMERS: '50',
      },
      'dashboard-documents-hub',
    );
    const banner = fs.readFileSync(hub.logFile, 'utf8');
    quickbooksSimulator = /QuickBooks: simulator at (http:\/\/\S+)/.exec(banner)![1];
    devposSimulator = /DevPos: +simulator at (http:\/\/\S+)/.exec(banner)![1];
    // The hub's DevPos simulator holds the last 30 days (3 sales, 2 purchases a day, its default seed): the same
    // simulator here generates the same documents, so the suite knows their numbers without asking DevPos.
    const today = DateTime.now().setZone(DEVPOS_ZONE);
    range = { from: today.minus({ days: 5 }).toISODate()!, to: today.minus({ days: 3 }).toISODate()! };
    const same = new DevposSimulator();
    same.generate(same.users[0].tenant, { ...range, salesPerDay: 3, purchasesPerDay: 2 });
    const live = (d: DevposDocument) => d.invoiceStatus !== 'Refuzuar' && !d.selfIssuingType && d.amount > 0;
    refusedSales = same.documentsOf(same.users[0].tenant, 'sales').filter(live).slice(0, 2);
    refusedPurchase = same.documentsOf(same.users[0].tenant, 'purchase').filter(live)[0];
    assert.equal(refusedSales.length, 2, 'the range has two sales invoices to refuse');
    for (const d of [...refusedSales, refusedPurchase]) await refusal(d.documentNumber);
    const sales = await runToEnd('sales');
    assert.deepEqual([sales.status, sales.stats.failed], ['completed', 2], JSON.stringify(sales));
    const bills = await runToEnd('bills');
    assert.deepEqual([bills.status, bills.stats.failed], ['completed', 1], JSON.stringify(bills));

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it("shows company 1's last sales and bills runs with their counts, and no full run yet", async () => {
    await page.goto(hub.url);
    await page.fill('#api-key', API_KEY);
    await page.click('#key-form button');
    await page.waitForSelector('#accounting-runs tr[data-job="sales"][data-run-id]');
    assert.equal(await page.locator('#accounting-company option:checked').innerText(), 'Company 1');
    const sales = page.locator('#accounting-runs tr[data-job="sales"][data-run-id]');
    assert.equal(await sales.count(), 1);
    assert.match(await sales.locator('td.status').innerText(), /^completed/);
    assert.equal(await sales.locator('td.count.failed').innerText(), '2');
    assert.ok(Number(await sales.locator('td.count.created').innerText()) > 0, 'created counted');
    assert.ok(Number(await sales.locator('td.count.fetched').innerText()) > 2, 'fetched counted');
    const bills = page.locator('#accounting-runs tr[data-job="bills"][data-run-id]');
    assert.equal(await bills.locator('td.count.failed').innerText(), '1');
    assert.match(await page.locator('#accounting-runs tr[data-job="full"]').innerText(), /Full sync\s+no run yet/);
  });

  it("lists the failed documents with QuickBooks' reason: code, message, element", async () => {
    const rows = page.locator('#failed-documents tbody tr');
    assert.equal(await rows.count(), 3);
    for (const d of [...refusedSales, refusedPurchase]) {
      const cells = await failedRow(d).locator('td').allInnerTexts();
      assert.equal(cells[0], d.documentNumber);
      assert.equal(cells[1], d.invoiceCreatedDate.slice(0, 10));
      assert.equal(cells[2], d === refusedPurchase ? 'purchase (Bill)' : 'sales (Invoice)');
      assert.match(cells[3], /^QBO_6140 Duplicate Document Number Error : .+ \(element DocNumber\)$/);
      assert.equal(
        await failedRow(d)
          .getByRole('button', { name: `Retry document ${d.documentNumber}` })
          .count(),
        1,
        'a Retry button that says which document',
      );
    }
    await shot('1-failed');
  });

  it('Retry while QuickBooks still refuses: the result says it is still failed and why; the row stays', async () => {
    const [stillRefused] = refusedSales;
    await failedRow(stillRefused).getByRole('button', { name: 'Retry' }).click();
    await page.waitForSelector('#retry-result:not([hidden])');
    assert.equal(await page.getAttribute('#retry-result', 'role'), 'alert');
    assert.match(
      await page.locator('#retry-result').innerText(),
      new RegExp(
        `^Document ${stillRefused.documentNumber} is still failed: QBO_6140 Duplicate Document Number Error : .+ \\(element DocNumber\\) \\(run [0-9a-f]{8} completed\\)\\.$`,
      ),
    );
    assert.equal(await failedRow(stillRefused).count(), 1);
    assert.equal(await page.locator('#failed-documents tbody tr').count(), 3);
    await shot('2-still-failed');
  });

  it('Retry after the cause is removed: synced, the row goes, and its manual sales run shows with created 1', async () => {
    const fixed = refusedSales[1];
    await refusal(fixed.documentNumber, true);
    await failedRow(fixed).getByRole('button', { name: 'Retry' }).click();
    await page.waitForFunction(
      (n) => document.querySelector('#retry-result')?.textContent?.startsWith(`Document ${n} is synced`),
      fixed.documentNumber,
    );
    assert.equal(await page.getAttribute('#retry-result', 'role'), 'status');
    assert.match(
      await page.locator('#retry-result').innerText(),
      /is synced: QuickBooks Invoice \d+ \(run [0-9a-f]{8} completed\)\.$/,
    );
    await page.waitForFunction((eic) => !document.querySelector(`#failed-documents tr[data-eic="${eic}"]`), fixed.eic);
    assert.equal(await page.locator('#failed-documents tbody tr').count(), 2);
    const doc = await api('GET', `/api/companies/1/documents/${fixed.eic}`);
    assert.deepEqual([doc.body.status, doc.body.last_error], ['synced', null]);

    // The retry is a run in the history: the newest sales run, manual, one document created.
    const newest = page.locator('#accounting-runs tr[data-job="sales"][data-run-id]').first();
    await eventually(
      async () => ((await newest.locator('td').nth(2).innerText()) === 'manual' ? true : undefined),
      'the retry run in the runs panel',
      20000,
    );
    assert.equal(await newest.locator('td.count.created').innerText(), '1');
    assert.equal(await newest.locator('td.count.fetched').innerText(), '1');
    assert.equal(await page.locator('#accounting-runs tr[data-job="sales"][data-run-id]').count(), 3);
    await shot('3-synced');
  });

  it('Retry while a sales run is going: "Not run", saying the job is running; the row stays', async () => {
    const [stillRefused] = refusedSales;
    const slow = (ms: number) =>
      fetch(`${devposSimulator}/__simulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ listLatencyPerDayMs: ms }),
      });
    assert.equal((await slow(3000)).status, 200);
    try {
      const runId = await startRun('sales');
      await eventually(
        async () => ((await api('GET', `/api/runs/${runId}`)).body?.status === 'running' ? true : undefined),
        'the sales run to be running',
        20000,
        100,
      );
      await failedRow(stillRefused).getByRole('button', { name: 'Retry' }).click();
      await page.waitForFunction(() => document.querySelector('#retry-result')?.textContent?.startsWith('Not run:'));
      assert.equal(await page.getAttribute('#retry-result', 'role'), 'alert');
      assert.equal(
        await page.locator('#retry-result').innerText(),
        `Not run: a document sync (sales, bills or full) is running for company 1: document ${stillRefused.documentNumber} (${stillRefused.eic}) was not retried; try again when it ends`,
      );
      assert.equal(await failedRow(stillRefused).count(), 1);
      // The retry that was not run is in the history as skipped, without counts.
      const skipped = page.locator('#accounting-runs tr[data-job="sales"]', { hasText: 'skipped: overlap' });
      await skipped.waitFor({ timeout: 15000 });
      assert.equal(await skipped.locator('td.status').innerText(), 'skipped');
      assert.equal(await skipped.locator('td.count.fetched').innerText(), '—');
      await shot('4-not-run');
      await eventually(
        async () =>
          ['completed', 'failed'].includes((await api('GET', `/api/runs/${runId}`)).body?.status) ? true : undefined,
        'the sales run to end',
        60000,
      );
    } finally {
      await slow(0);
    }
  });
});
