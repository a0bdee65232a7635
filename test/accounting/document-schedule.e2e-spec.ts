import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { scheduledRunId, Topic } from '@sync-hub/contracts';
import { DevposDocument, DevposSimulator, QboEntity, QuickBooksSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { groupStartingNow, KafkaProbe } from '../support/kafka';
import { eventually } from '../support/wait';
import { simulatedAccountingEnv } from '../support/accounting-env';

const API_KEY = 'accounting-schedule-e2e-key';
const ZONE = 'Europe/Tirane';
const DAYS = 3;
const DOCUMENT_TYPES = ['Invoice', 'CreditMemo', 'Bill', 'VendorCredit'] as const;
type DocumentType = (typeof DOCUMENT_TYPES)[number];

/** today − DAYS … today in the company's zone at `at`, as seed 001 defines a schedule's range. */
function rangeAt(at: Date): { from: string; to: string } {
  const today = DateTime.fromJSDate(at).setZone(ZONE).startOf('day');
  return { from: today.minus({ days: DAYS }).toISODate()!, to: today.toISODate()! };
}

/** What a DevPos document must become in QuickBooks: a sale's invoice, a purchase's (or self-invoice's) bill, or their credits. */
function entityOf(d: DevposDocument): DocumentType {
  const purchase = d.partyType !== 'Shitje' || !!d.selfIssuingType;
  if (purchase) return d.amount > 0 ? 'Bill' : 'VendorCredit';
  return d.amount > 0 ? 'Invoice' : 'CreditMemo';
}

/** The other party as DevPos names it: the buyer of a sale, the seller of a purchase, the supplier of a self-invoice. */
function partyOf(d: DevposDocument): { name: string; nuis: string } {
  if (d.selfIssuingType && d.customer) return { name: d.customer.name, nuis: d.customer.idNumber };
  return d.partyType === 'Shitje'
    ? { name: d.buyerName, nuis: d.buyerNuis }
    : { name: d.sellerName, nuis: d.sellerNuis };
}

/**
 * A daily `full` for company 1, made through the scheduler's API with `date_range_days` and fired by the scheduler
 * process itself (its manual clock moved to the slot), run by accounting-sync from the tick on Kafka against both
 * simulators: QuickBooks holds exactly the range's invoices and bills, each with its party, dates, total, currency
 * and EIC.
 */
describe('a scheduled daily full: scheduler → Kafka → accounting-sync → QuickBooks (MariaDB, simulators over HTTP)', () => {
  let db: TestDatabase;
  let qbo: QuickBooksSimulator;
  let devpos: DevposSimulator;
  let scheduler: AppProcess;
  let accounting: AppProcess;
  let tenant: string;
  const probe = new KafkaProbe();

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${scheduler.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : null };
  };
  const moveClock = async (body: object): Promise<{ leader: boolean; ticks: number }> => {
    const res = await fetch(`${scheduler.url}/__clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { leader: boolean; ticks: number };
  };
  const documentsIn = (range: { from: string; to: string }) =>
    devpos
      .documentsOf(tenant)
      .filter((d) => d.invoiceCreatedDate.slice(0, 10) >= range.from && d.invoiceCreatedDate.slice(0, 10) <= range.to);

  before(async () => {
    db = await createTestDatabase('accounting_schedule');
    // Only this suite's schedule may tick: the seeded ones stay off (not as "no handler", so nothing enables them).
    await db.dataSource.query(
      "UPDATE schedules SET enabled = 0, paused_reason = 'not part of this suite', next_run_at = NULL",
    );
    qbo = new QuickBooksSimulator({ seed: 61 });
    await qbo.start();
    devpos = new DevposSimulator({ seed: 61 });
    const devposUrl = await devpos.start();
    const user = devpos.users[0];
    tenant = user.tenant;
    // A week before the range and the day after it too: neither may reach QuickBooks.
    const today = DateTime.now().setZone(ZONE).startOf('day');
    devpos.generate(tenant, {
      from: today.minus({ days: DAYS + 4 }).toISODate()!,
      to: today.plus({ days: 1 }).toISODate()!,
      salesPerDay: 4,
      purchasesPerDay: 2,
    });
    // A sale and a purchase of yesterday (in the range whichever day the run takes) are in euros, at DevPos's rate.
    const yesterday = today.minus({ days: 1 }).toISODate()!;
    for (const kind of ['sales', 'purchase'] as const) {
      const d = devpos
        .documentsOf(tenant, kind)
        .find(
          (x) => x.invoiceCreatedDate.startsWith(yesterday) && !x.selfIssuingType && x.invoiceStatus !== 'Refuzuar',
        );
      assert.ok(d, `a ${kind} document of ${yesterday}`);
      devpos.setDocument(tenant, d.eic, { currencyCode: 'EUR', exchangeRate: 99.5 });
    }
    const seed = qbo.connect();
    await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
    const group = await groupStartingNow(`accounting-schedule-${randomBytes(4).toString('hex')}`, [
      Topic.AccountingRequested,
    ]);
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, GATEWAY_API_KEYS: API_KEY };
    [scheduler, accounting] = await Promise.all([
      startAppProcess(
        'scheduler',
        {
          ...common,
          KAFKA_GROUP_ID: `scheduler-schedule-${randomBytes(4).toString('hex')}`,
          // Held still at the wall clock until the test moves it to the slot: no waiting for a minute to turn.
          SCHEDULER_CLOCK: 'manual',
          SCHEDULER_CLOCK_START: new Date().toISOString(),
          SCHEDULER_RUN_ON_START: 'none',
        },
        'accounting-schedule-scheduler',
      ),
      startAppProcess(
        'accounting-sync',
        {
          ...common,
          KAFKA_GROUP_ID: group,
          SECRETS_KEY: randomBytes(32).toString('base64'),
          ...simulatedAccountingEnv(qbo, seed, devpos, devposUrl),
          HTTP_RETRIES: '1',
          HTTP_RETRY_BASE_DELAY_MS: '20',
        },
        'accounting-schedule-accounting-sync',
      ),
    ]);
  });

  after(async () => {
    await Promise.all([scheduler?.stop(), accounting?.stop()]);
    await probe.close();
    await qbo?.stop();
    await devpos?.stop();
    await db?.drop();
  });

  it('fires at its slot and leaves exactly the range’s invoices and bills in QuickBooks: parties, dates, totals, currency, EIC', async () => {
    // The scheduler leads and announces company 1 (as a new leader does), which accounting-sync projects.
    assert.equal((await moveClock({})).leader, true);
    await eventually(
      async () => {
        const [company] = await db.dataSource.query('SELECT timezone FROM accounting_company_projections WHERE id = 1');
        return company?.timezone === ZONE ? true : undefined;
      },
      'accounting-sync to learn company 1 from the scheduler',
      60000,
      250,
    );

    // Daily, at the minute after next in Tirane: a slot the manual clock has not reached yet.
    const slot = DateTime.fromMillis(Math.ceil(Date.now() / 60000) * 60000 + 60000).setZone(ZONE);
    const created = await api('POST', '/api/companies/1/schedules', {
      domain: 'accounting',
      job_type: 'full',
      frequency: 'daily',
      hour_of_day: slot.hour,
      minute: slot.minute,
      timezone: ZONE,
      date_range_days: DAYS,
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.enabled, true, 'the full job has a handler in this version');
    assert.equal(created.body.date_range_days, DAYS);
    const slotIso = slot.toUTC().toISO({ suppressMilliseconds: false })!;
    assert.equal(new Date(created.body.next_run_at).toISOString(), new Date(slotIso).toISOString());

    const firedAt = new Date();
    const step = await moveClock({ to: new Date(Date.parse(slotIso) + 30000).toISOString() });
    assert.equal(step.ticks, 1, 'its slot, and nothing else');
    const runId = scheduledRunId(String(created.body.id), new Date(slotIso));
    const end = await probe.waitForRunEnd(runId, 120000);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.equal(end.json.payload.trigger, 'schedule');
    assert.equal(end.json.payload.companyId, 1);
    const stats = end.json.payload.stats;

    // The range is the company's today − 3 … today when accounting-sync ran (a run across midnight takes either day).
    const candidates = [rangeAt(firedAt), rangeAt(new Date())];
    const range = candidates.find((r) => documentsIn(r).length === stats.fetched);
    assert.ok(range, `fetched ${stats.fetched}: the documents of ${JSON.stringify(candidates)}`);
    const all = documentsIn(range);
    const expected = all.filter((d) => d.invoiceStatus !== 'Refuzuar');
    assert.ok(expected.length >= 15, `${expected.length} documents in the range`);
    assert.deepEqual([stats.created, stats.skipped, stats.failed], [expected.length, all.length - expected.length, 0]);
    assert.ok(
      devpos.documentsOf(tenant).length > all.length + 10,
      'documents outside the range exist, and were left out',
    );
    const types = new Set(expected.map(entityOf));
    assert.ok(types.has('Invoice') && types.has('Bill'), 'invoices and bills both');
    assert.ok(
      expected.some((d) => d.currencyCode === 'EUR' && entityOf(d) === 'Invoice') &&
        expected.some((d) => d.currencyCode === 'EUR' && entityOf(d) === 'Bill'),
      'a sale and a purchase in euros',
    );

    const held: Array<QboEntity & { type: DocumentType }> = DOCUMENT_TYPES.flatMap((t) =>
      qbo.entities(t).map((e) => ({ ...e, type: t })),
    );
    assert.equal(held.length, expected.length, 'QuickBooks holds the range and nothing else');
    for (const d of expected) {
      const label = `${d.documentNumber} (${d.eic})`;
      const matches = held.filter((e) => e.PrivateNote === `DevPos EIC ${d.eic}`);
      assert.equal(matches.length, 1, `${label}: one QuickBooks document`);
      const e = matches[0] as QboEntity & Record<string, any>;
      const type = entityOf(d);
      assert.equal(e.type, type, label);
      assert.equal(e.DocNumber, d.documentNumber, label);
      assert.equal(e.TxnDate, d.invoiceCreatedDate.slice(0, 10), `${label}: the local date DevPos created it`);
      if (type === 'Invoice' || type === 'Bill') assert.equal(e.DueDate, d.dueDate.slice(0, 10), label);
      assert.equal(e.TotalAmt, Math.round(Math.abs(d.amount) * 100) / 100, `${label}: its total, VAT included`);
      assert.equal(e.CurrencyRef.value, d.currencyCode, `${label}: its own currency`);
      if (d.currencyCode !== 'ALL') assert.equal(e.ExchangeRate, d.exchangeRate, label);
      const sale = type === 'Invoice' || type === 'CreditMemo';
      if (sale)
        assert.deepEqual(
          e.CustomField.map((f: any) => [f.Name, f.StringValue]),
          [['EIC', d.eic]],
          label,
        );
      const partyType = sale ? 'Customer' : 'Vendor';
      const party = qbo.entity(partyType, (sale ? e.CustomerRef : e.VendorRef).value);
      assert.ok(party, `${label}: its ${partyType} exists`);
      const expectedParty = partyOf(d);
      const name = String(party.DisplayName);
      assert.ok(
        name === expectedParty.name || name.startsWith(`${expectedParty.name} (`),
        `${label}: ${partyType} "${name}" is ${expectedParty.name}`,
      );
      if (expectedParty.nuis) assert.equal(sale ? party.ResaleNum : party.TaxIdentifier, expectedParty.nuis, label);
      assert.equal((party.CurrencyRef as { value: string }).value, d.currencyCode, `${label}: a party in its currency`);
    }
    const rows: Array<{ eic: string; status: string; qbo_id: string | null }> = await db.dataSource.query(
      "SELECT eic, status, qbo_id FROM accounting_documents WHERE company_id = 1 AND status = 'synced'",
    );
    assert.deepEqual(rows.map((r) => r.eic).sort(), expected.map((d) => d.eic).sort());

    const [schedule] = (await api('GET', '/api/companies/1/schedules')).body.filter(
      (s: { id: number }) => s.id === created.body.id,
    );
    assert.equal(new Date(schedule.last_run_at).toISOString(), new Date(slotIso).toISOString());
    assert.ok(Date.parse(schedule.next_run_at) > Date.parse(slotIso), 'the next slot is tomorrow’s');
  });
});
