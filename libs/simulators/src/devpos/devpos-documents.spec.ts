import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DevposSimulator } from './devpos-simulator';
import { DevposDocument, DevposListRow } from './document-generator';

const EIC = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NUMBER = /^(\d+)\/(\d{4})$/;
const NUIS = /^[A-Z]\d{8}[A-Z]$/;
const ISO_TIRANE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$/;

/** A client of the simulator over real HTTP: logs in once per tenant, then calls the API as the real client would. */
function client(sim: DevposSimulator, url: () => string) {
  const tokens = new Map<string, string>();
  const token = async (tenant: string) => {
    if (tokens.has(tenant)) return tokens.get(tenant)!;
    const user = sim.users.find((u) => u.tenant === tenant)!;
    const res = await fetch(`${url()}/connect/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${sim.clientId}:`).toString('base64')}`,
        tenant,
      },
      body: new URLSearchParams({ grant_type: 'password', username: user.username, password: user.password }),
    });
    assert.equal(res.status, 200);
    tokens.set(tenant, ((await res.json()) as { access_token: string }).access_token);
    return tokens.get(tenant)!;
  };
  return async (tenant: string, path: string) =>
    fetch(`${url()}/api/v3/${path}`, {
      headers: { authorization: `Bearer ${await token(tenant)}`, tenant, accept: 'application/json' },
    });
}

describe('DevposSimulator serves generated e-invoice documents over HTTP', () => {
  const tenant = 'L91234567A';
  const other = 'K12345678B';
  const sim = new DevposSimulator({
    seed: 11,
    users: [
      { tenant, username: 'sim-user', password: 'pw-1' },
      { tenant: other, username: 'other-user', password: 'pw-2' },
    ],
    documents: [{ tenant, from: '2026-01-01', to: '2026-07-31', salesPerDay: 3, purchasesPerDay: 2 }],
  });
  let url = '';
  const api = client(sim, () => url);
  const list = async (kind: 'Sales' | 'Purchase', from: string, to: string, as = tenant, extra = '') => {
    const res = await api(as, `EInvoice/Get${kind}Invoice?fromDate=${from}&toDate=${to}${extra}`);
    return { status: res.status, body: (await res.json()) as unknown };
  };

  before(async () => {
    url = await sim.start();
  });
  after(() => sim.stop());

  it('generates the same documents for the same seed, and other ones for another seed or tenant', () => {
    const range = { from: '2026-03-01', to: '2026-03-10', salesPerDay: 4, purchasesPerDay: 2 };
    const a = new DevposSimulator({ seed: 3, documents: [{ tenant, ...range }] });
    const b = new DevposSimulator({ seed: 3, documents: [{ tenant, ...range }] });
    const c = new DevposSimulator({ seed: 4, documents: [{ tenant, ...range }] });
    const d = new DevposSimulator({ seed: 3, documents: [{ tenant: other, ...range }] });
    assert.equal(a.count(tenant), 60);
    assert.equal(a.count(tenant, 'sales'), 40);
    assert.equal(a.count(tenant, 'purchase'), 20);
    assert.deepEqual(a.documentsOf(tenant), b.documentsOf(tenant));
    assert.deepEqual(a.salesInvoices.get(tenant), b.salesInvoices.get(tenant));
    assert.notDeepEqual(
      a.documentsOf(tenant).map((x) => x.eic),
      c.documentsOf(tenant).map((x) => x.eic),
    );
    assert.notDeepEqual(
      a.documentsOf(tenant).map((x) => x.eic),
      d.documentsOf(other).map((x) => x.eic),
    );
    // A day's documents do not depend on the range that generated them; an overlapping range adds nothing twice.
    const part = new DevposSimulator({ seed: 3, documents: [{ tenant, ...range, from: '2026-03-05' }] });
    assert.deepEqual(
      part.documentsOf(tenant, 'sales'),
      a.documentsOf(tenant, 'sales').filter((x) => x.invoiceCreatedDate >= '2026-03-05'),
    );
    assert.equal(part.generate(tenant, range), 24);
    assert.equal(part.count(tenant), 60);
  });

  it('lists rows of the observed shape: every field, UUID EICs, N/YYYY numbers, NUIS, Tirane offsets', async () => {
    const jan = await list('Sales', '2026-01-01', '2026-01-31');
    assert.equal(jan.status, 200);
    const rows = jan.body as DevposListRow[];
    assert.equal(rows.length, 31 * 3);
    const fields = [
      'amount',
      'buyerName',
      'buyerNuis',
      'customer',
      'documentNumber',
      'dueDate',
      'eic',
      'invoiceCreatedDate',
      'invoiceStatus',
      'partyType',
      'selfIssuingType',
      'sellerName',
      'sellerNuis',
    ];
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).sort(), fields);
      assert.match(row.eic, EIC);
      assert.match(row.documentNumber, NUMBER);
      assert.match(row.invoiceCreatedDate, /^2026-01-\d{2}T\d{2}:\d{2}:\d{2}\+01:00$/);
      assert.match(row.dueDate, ISO_TIRANE);
      assert.ok(row.dueDate >= row.invoiceCreatedDate.slice(0, 10));
      assert.ok(['Dërguar', 'Pranuar', 'Refuzuar'].includes(row.invoiceStatus));
      assert.equal(typeof row.amount, 'number');
      assert.equal(row.partyType, 'Shitje');
      assert.equal(row.sellerNuis, tenant);
      assert.equal(row.sellerName, '');
      assert.ok(row.buyerNuis === '' || NUIS.test(row.buyerNuis), row.buyerNuis);
      assert.ok(row.buyerName.length > 0);
      assert.ok(!('currencyCode' in row) && !('exchangeRate' in row) && !('pdf' in row));
    }
    assert.equal(new Set(rows.map((r) => r.eic)).size, rows.length);
    // Numbers run 1..93 in January: sequential per year and tenant, in creation order.
    assert.deepEqual(
      rows.map((r) => Number(NUMBER.exec(r.documentNumber)![1])),
      rows.map((_, i) => i + 1),
    );
    assert.ok(rows.every((r) => r.documentNumber.endsWith('/2026')));
    // The same customers recur, and some have no NUIS.
    const buyers = rows.filter((r) => !r.selfIssuingType).map((r) => r.buyerName);
    assert.ok(new Set(buyers).size <= 12 && new Set(buyers).size < buyers.length / 3);
    assert.ok(rows.some((r) => r.buyerNuis === '' && !r.selfIssuingType));

    const july = (await list('Purchase', '2026-07-01', '2026-07-31')).body as DevposListRow[];
    assert.equal(july.length, 31 * 2);
    for (const row of july) {
      assert.match(row.invoiceCreatedDate, /^2026-07-\d{2}T\d{2}:\d{2}:\d{2}\+02:00$/);
      assert.equal(row.buyerNuis, tenant);
      assert.ok(row.sellerName.length > 0, 'the vendor of a purchase is in seller*');
      assert.ok(row.sellerNuis === '' || NUIS.test(row.sellerNuis));
      assert.equal(row.selfIssuingType, null);
    }
    assert.ok(july.some((r) => r.sellerNuis === ''));
    assert.ok(new Set(july.map((r) => r.sellerNuis)).size <= 6);
  });

  it('has self-invoices, rejected documents, credit notes, zero amounts and EUR documents within a month', () => {
    const sales = sim.documentsOf(tenant, 'sales').filter((d) => d.invoiceCreatedDate.startsWith('2026-03'));
    const month = sim.documentsOf(tenant).filter((d) => d.invoiceCreatedDate.startsWith('2026-03'));
    const self = sales.filter((d) => d.selfIssuingType);
    assert.ok(self.length > 0);
    for (const d of self) {
      assert.ok(['AGREEMENT', 'DOMESTIC', 'ABROAD'].includes(d.selfIssuingType!));
      assert.ok(d.customer && d.customer.name && NUIS.test(d.customer.idNumber));
      assert.equal(d.buyerNuis, tenant);
    }
    assert.ok(month.some((d) => d.invoiceStatus === 'Refuzuar'));
    assert.ok(month.some((d) => d.invoiceStatus === 'Pranuar') && month.some((d) => d.invoiceStatus === 'Dërguar'));
    const credit = month.filter((d) => d.amount < 0);
    assert.ok(credit.length > 0);
    assert.ok(credit.every((d) => d.invoiceType === 'CreditNote'));
    assert.ok(sim.documentsOf(tenant).some((d) => d.amount === 0));
    const eur = month.filter((d) => d.currencyCode === 'EUR');
    assert.ok(eur.length > 0 && eur.length < month.length / 4);
    assert.ok(eur.every((d) => d.exchangeRate > 90 && d.exchangeRate < 110));
    assert.ok(month.filter((d) => d.currencyCode === 'ALL').every((d) => d.exchangeRate === 1));
  });

  it('filters by the local date of invoiceCreatedDate, inclusive at both ends', async () => {
    const day = (await list('Sales', '2026-03-29', '2026-03-29')).body as DevposListRow[];
    assert.equal(day.length, 3);
    assert.ok(day.every((r) => r.invoiceCreatedDate.startsWith('2026-03-29T')));
    // 29 March 2026 is the switch to summer time: the offset follows the date, the clock times stay in office hours.
    assert.ok(day.every((r) => r.invoiceCreatedDate.endsWith('+02:00')));
    assert.ok(day.every((r) => /T(0[89]|1\d):/.test(r.invoiceCreatedDate)));
    const autumn = new DevposSimulator({
      documents: [{ tenant, from: '2026-10-25', to: '2026-10-25', salesPerDay: 20, purchasesPerDay: 0 }],
    }).documentsOf(tenant);
    assert.equal(autumn.length, 20);
    assert.ok(autumn.every((d) => /^2026-10-25T(0[89]|1\d):\d{2}:\d{2}\+01:00$/.test(d.invoiceCreatedDate)));
    assert.ok(
      ((await list('Sales', '2026-03-28', '2026-03-28')).body as DevposListRow[]).every((r) =>
        r.invoiceCreatedDate.endsWith('+01:00'),
      ),
    );
    const week = (await list('Purchase', '2026-02-01', '2026-02-07')).body as DevposListRow[];
    assert.equal(week.length, 14);
    assert.equal(
      sim.listCallCount({ endpoint: 'GetPurchaseInvoice', fromDate: '2026-02-01', toDate: '2026-02-07' }),
      1,
    );
  });

  it('answers an empty sales range with 200 [] but an empty purchase range with the real 500', async () => {
    const before = sim.listCallCount({ tenant: other });
    const sales = await list('Sales', '2026-01-01', '2026-01-31', other);
    assert.deepEqual(sales, { status: 200, body: [] });
    const purchases = await list('Purchase', '2026-01-01', '2026-01-31', other);
    assert.deepEqual(purchases, { status: 500, body: { message: 'An error has occurred.' } });
    const outside = await list('Purchase', '2025-06-01', '2025-06-30');
    assert.equal(outside.status, 500);
    assert.equal(sim.listCallCount({ tenant: other }), before + 2);
    assert.equal(sim.listCallCount({ tenant: other, endpoint: 'GetPurchaseInvoice', status: 500 }), 1);
  });

  it('answers includePdf=true on a list with 500 and a timestamp range with 400', async () => {
    const withPdf = await list('Sales', '2026-01-01', '2026-01-02', tenant, '&includePdf=true');
    assert.deepEqual(withPdf, { status: 500, body: { message: 'An error has occurred.' } });
    assert.equal((await list('Sales', '2026-01-01', '2026-01-02', tenant, '&includePdf=false')).status, 200);
    assert.equal((await list('Purchase', '2026-01-01T00:00:00+01:00', '2026-01-02')).status, 400);
  });

  it('serves the full document by EIC with currency, totals, lines and a valid PDF', async () => {
    const eur = sim.documentsOf(tenant).find((d) => d.currencyCode === 'EUR')!;
    const res = await api(tenant, `EInvoice?EIC=${eur.eic}`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as DevposDocument & { pdf: string };
    assert.equal(doc.eic, eur.eic);
    assert.equal(doc.currencyCode, 'EUR');
    assert.equal(doc.exchangeRate, eur.exchangeRate);
    assert.equal(doc.totalPrice, doc.amount);
    assert.equal(Math.round((doc.totalPriceWithoutVat + doc.totalVatAmount) * 100), Math.round(doc.totalPrice * 100));
    assert.ok(doc.invoiceProducts.length >= 1);
    for (const p of doc.invoiceProducts) {
      assert.ok([0, 6, 20].includes(p.vatRate));
      assert.equal(typeof p.Name, 'string');
      assert.equal(Math.round((p.totalPriceBeforeVat + p.vatAmount) * 100), Math.round(p.totalPriceAfterVat * 100));
    }
    assert.equal(doc.payDeadline, doc.dueDate);
    assert.equal(typeof doc.isReverseCharge, 'boolean');
    assert.ok(['NUIS', 'ID'].includes(doc.Customer.idType));
    assert.equal(doc.invoicePayments[0].amount, doc.totalPrice);
    const pdf = Buffer.from(doc.pdf, 'base64').toString('latin1');
    assert.match(pdf, /^%PDF-1\.4\n/);
    assert.match(pdf, /%%EOF\n$/);
    assert.ok(pdf.includes(doc.documentNumber) && pdf.includes(doc.eic));
    // The cross-reference table points at the objects it names.
    const xref = Number(/startxref\n(\d+)\n/.exec(pdf)![1]);
    assert.ok(pdf.startsWith('xref', xref));
    const first = Number(/0000000000 65535 f \n(\d{10}) 00000 n/.exec(pdf)![1]);
    assert.ok(pdf.startsWith('1 0 obj', first));

    assert.equal((await api(tenant, 'EInvoice?EIC=00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await api(other, `EInvoice?EIC=${eur.eic}`)).status, 404, 'another tenant does not see it');
    assert.equal((await api(tenant, 'EInvoice')).status, 400);
  });

  it('answers the single-document call with 405 or 415 when the fault switch says so', async () => {
    const eic = sim.documentsOf(tenant)[0].eic;
    sim.setFaults({ einvoiceFailureRate: 1 });
    const r405 = await api(tenant, `EInvoice?EIC=${eic}`);
    assert.equal(r405.status, 405);
    assert.match(((await r405.json()) as { message: string }).message, /does not support http method/);
    sim.setFaults({ einvoiceFailureStatus: 415 });
    assert.equal((await api(tenant, `EInvoice?EIC=${eic}`)).status, 415);
    sim.setFaults({ einvoiceFailureRate: 0.5 });
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await api(tenant, `EInvoice?EIC=${eic}`)).status);
    assert.ok(statuses.includes(200) && statuses.includes(415));
    sim.clearFaults();
    assert.equal((await api(tenant, `EInvoice?EIC=${eic}`)).status, 200);
  });

  it('slows list calls: the transport latency on every call, plus a latency per day of the range', async () => {
    sim.setFaults({ latencyMs: 40 });
    let started = Date.now();
    assert.equal((await list('Sales', '2026-01-01', '2026-01-01')).status, 200);
    assert.ok(Date.now() - started >= 35);
    sim.setFaults({ latencyMs: 0, listLatencyPerDayMs: 5 });
    started = Date.now();
    assert.equal((await list('Sales', '2026-01-01', '2026-01-31')).status, 200);
    assert.ok(Date.now() - started >= 150, 'a 31-day range waits 31 × 5 ms');
    sim.clearFaults();
  });

  it('changes one document with setDocument, in its row and its full document', async () => {
    const target = (await list('Sales', '2026-02-10', '2026-02-10')).body as DevposListRow[];
    const eic = target[1].eic;
    const changed = sim.setDocument(tenant, eic, { amount: 1200, buyerName: 'Renamed sh.p.k.' });
    assert.equal(changed.amount, 1200);
    const after = (await list('Sales', '2026-02-10', '2026-02-10')).body as DevposListRow[];
    assert.deepEqual(after[1], { ...target[1], amount: 1200, buyerName: 'Renamed sh.p.k.' });
    assert.deepEqual(after[0], target[0]);
    assert.deepEqual(after[2], target[2]);
    const full = (await (await api(tenant, `EInvoice?EIC=${eic}`)).json()) as DevposDocument;
    assert.equal(full.totalPrice, 1200);
    assert.equal(Math.round((full.totalPriceWithoutVat + full.totalVatAmount) * 100), 120000);
    assert.equal(full.buyerName, 'Renamed sh.p.k.');
    sim.setDocument(tenant, eic, { invoiceStatus: 'Refuzuar' });
    assert.equal(sim.document(tenant, eic)!.invoiceStatus, 'Refuzuar');
    assert.equal(sim.document(tenant, eic)!.amount, 1200);
    assert.throws(() => sim.setDocument(tenant, 'nope', { amount: 1 }), /no document nope/);
    assert.equal(sim.count(tenant), (31 + 28 + 31 + 30 + 31 + 30 + 31) * 5);
  });

  it('generates and changes documents through its control routes, refusing bad input', async () => {
    const control = (path: string, body: unknown) =>
      fetch(`${url}/__simulator/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const made = await control('documents', {
      tenant: other,
      from: '2026-05-01',
      to: '2026-05-02',
      salesPerDay: 1,
      purchasesPerDay: 1,
    });
    assert.deepEqual(await made.json(), { added: 4, count: 4 });
    assert.equal((await list('Purchase', '2026-05-01', '2026-05-02', other)).status, 200);
    const eic = sim.documentsOf(other, 'sales')[0].eic;
    const changed = await control('document', { tenant: other, eic, changes: { invoiceStatus: 'Refuzuar' } });
    assert.equal(((await changed.json()) as DevposDocument).invoiceStatus, 'Refuzuar');
    assert.equal((await control('document', { tenant: other, eic: 'nope', changes: {} })).status, 404);
    const bad = await control('documents', { tenant: other, from: '2026-05-01', to: 'soon', salesPerDay: 1 });
    assert.equal(bad.status, 400);
    const noRate = await control('documents', { tenant: other, from: '2026-05-01', to: '2026-05-02' });
    assert.equal(noRate.status, 400);
    assert.equal(sim.count(other), 4);
    const state = (await (await fetch(`${url}/__simulator/state`)).json()) as { documents: Record<string, number> };
    assert.equal(state.documents[other], 4);
  });
});
