import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { DevposSimulator } from '@sync-hub/simulators';
import { DevposClient } from './devpos-client';

/** The DevPos client against the simulator over HTTP: lists by window, and the empty-purchases 500. */
describe('DevposClient lists (simulator over HTTP)', () => {
  const sim = new DevposSimulator({ seed: 11 });
  const user = sim.users[0];
  let client: DevposClient;
  let token = '';

  before(async () => {
    const url = await sim.start();
    sim.generate(user.tenant, { from: '2026-03-01', to: '2026-03-31', salesPerDay: 2, purchasesPerDay: 1 });
    client = new DevposClient(
      loadConfig('accounting-sync', {
        DEVPOS_URL: url,
        DEVPOS_AUTH_BASIC: Buffer.from(`${sim.clientId}:`).toString('base64'),
        HTTP_RETRIES: '2',
        HTTP_RETRY_BASE_DELAY_MS: '5',
      }),
    );
    token = (await client.login(1, user.tenant, user.username, user.password)).accessToken;
  });

  after(async () => {
    await client.onApplicationShutdown();
    await sim.stop();
  });

  it('reads a window of sales and of purchases, by local date', async () => {
    const sales = (await client.list('sales', token, user.tenant, { from: '2026-03-02', to: '2026-03-08' })) as Array<{
      invoiceCreatedDate: string;
    }>;
    assert.equal(sales.length, 14);
    assert.ok(
      sales.every(
        (r) => r.invoiceCreatedDate.slice(0, 10) >= '2026-03-02' && r.invoiceCreatedDate.slice(0, 10) <= '2026-03-08',
      ),
    );
    assert.equal(
      (await client.list('purchase', token, user.tenant, { from: '2026-03-02', to: '2026-03-08' })).length,
      7,
    );
  });

  it("reads DevPos's 500 for a purchase range without documents as empty, after asking once more", async () => {
    const before = sim.listCallCount({ endpoint: 'GetPurchaseInvoice' });
    assert.deepEqual(await client.list('purchase', token, user.tenant, { from: '2025-01-01', to: '2025-01-07' }), []);
    assert.equal(
      sim.listCallCount({ endpoint: 'GetPurchaseInvoice' }) - before,
      2,
      'asked twice, not retried three times more',
    );
    assert.deepEqual(await client.list('sales', token, user.tenant, { from: '2025-01-01', to: '2025-01-07' }), []);
  });

  it('a 500 on a sales list is an outage (retried, then failed); on a purchase list it is read as DevPos says it', async () => {
    sim.setFaults({ errorRate: 1 });
    try {
      const before = sim.listCallCount({ endpoint: 'GetSalesInvoice' });
      await assert.rejects(
        client.list('sales', token, user.tenant, { from: '2026-03-02', to: '2026-03-08' }),
        (err: Error & { retriable?: boolean }) => err.retriable === true,
      );
      assert.equal(
        sim.listCallCount({ endpoint: 'GetSalesInvoice' }) - before,
        0,
        'the fault answered before the list',
      );
      // DevPos's generic 500 is the same body whether the range is empty or DevPos is failing: asked twice, then empty.
      assert.deepEqual(await client.list('purchase', token, user.tenant, { from: '2026-03-02', to: '2026-03-08' }), []);
    } finally {
      sim.clearFaults();
    }
  });

  it('fetches the full document of an EIC: currency, rate and PDF', async () => {
    const [row] = (await client.list('sales', token, user.tenant, { from: '2026-03-02', to: '2026-03-02' })) as Array<{
      eic: string;
    }>;
    const full = await client.fullDocument<{ eic: string; currencyCode: string; exchangeRate: number; pdf: string }>(
      token,
      user.tenant,
      row.eic,
    );
    assert.equal(full.eic, row.eic);
    assert.match(full.currencyCode, /^(ALL|EUR)$/);
    assert.ok(full.exchangeRate > 0);
    assert.ok(Buffer.from(full.pdf, 'base64').subarray(0, 5).toString() === '%PDF-');
  });
});
