import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { ConfigurationError } from '@sync-hub/contracts';
import { partyKey } from './accounting-party.entity';
import { companyRange, explicitRange, localDate, windows } from './date-range';
import { attachmentName, faultText } from './document-sync.service';
import { CompanyMapping, qboDocument } from './qbo-payload';
import {
  contentHash,
  createRequestId,
  DevposListRow,
  MalformedDocumentError,
  qboEntityOf,
  qboString,
  readDevposRow,
} from './source-document';

const TZ = 'Europe/Tirane';
const EIC = '0f8fad5b-d9cb-469f-a165-70867728950e';

function salesRow(over: Partial<DevposListRow> = {}): DevposListRow {
  return {
    eic: EIC,
    documentNumber: '17/2026',
    invoiceCreatedDate: '2026-03-29T00:30:00+01:00',
    dueDate: '2026-04-28T00:00:00+02:00',
    invoiceStatus: 'Pranuar',
    amount: 1200,
    buyerNuis: 'K12345678A',
    buyerName: 'Blerja Sh.p.k.',
    sellerNuis: 'L91234567A',
    sellerName: '',
    partyType: 'Shitje',
    ...over,
  };
}

const mapping: CompanyMapping = {
  companyId: 1,
  incomeItemId: '1',
  expenseAccountId: '7',
  tracksVat: false,
  taxCodes: {},
  attachPdf: true,
};

describe('ranges in the company time zone (seed 001: today − date_range_days … today)', () => {
  it("uses the company's local today, not the server's: 23:30 UTC is already tomorrow in Tirane", () => {
    assert.deepEqual(companyRange(TZ, 7, new Date('2026-06-30T22:30:00Z')), { from: '2026-06-24', to: '2026-07-01' });
    assert.deepEqual(companyRange(TZ, 0, new Date('2026-01-15T10:00:00Z')), { from: '2026-01-15', to: '2026-01-15' });
    assert.deepEqual(companyRange('UTC', 1, new Date('2026-06-30T22:30:00Z')), {
      from: '2026-06-29',
      to: '2026-06-30',
    });
  });

  it("reads a document's local date from its offset, across the DST change", () => {
    assert.equal(localDate('2026-03-29T00:30:00+01:00', TZ), '2026-03-29');
    assert.equal(localDate('2026-03-28T23:30:00Z', TZ), '2026-03-29', 'UTC instant, Tirane date');
    assert.equal(localDate('2026-10-25T01:30:00+02:00', TZ), '2026-10-25');
    assert.throws(() => localDate('yesterday', TZ), /ISO-8601/);
    assert.equal(localDate('2026-03-29T00:30:00', TZ), '2026-03-29', "no offset: the zone's wall time");
  });

  it('cuts a long range into 7-day windows that cover it exactly, oldest first', () => {
    const w = windows({ from: '2026-02-20', to: '2026-03-10' });
    assert.deepEqual(w, [
      { from: '2026-02-20', to: '2026-02-26' },
      { from: '2026-02-27', to: '2026-03-05' },
      { from: '2026-03-06', to: '2026-03-10' },
    ]);
    assert.deepEqual(windows({ from: '2026-02-20', to: '2026-02-20' }), [{ from: '2026-02-20', to: '2026-02-20' }]);
    assert.deepEqual(windows({ from: '2026-01-01', to: '2026-01-03' }, 1).length, 3);
    assert.deepEqual(windows({ from: '2026-01-02', to: '2026-01-01' }), []);
  });

  it('checks a manual from/to', () => {
    assert.deepEqual(explicitRange('2026-01-01', '2026-01-31'), { from: '2026-01-01', to: '2026-01-31' });
    assert.throws(() => explicitRange('2026-02-30', '2026-03-01'), /from must be a date/);
    assert.throws(() => explicitRange('2026-03-01', '2026-02-01'), /after/);
    assert.throws(() => explicitRange('2026-03-01T00:00:00Z', '2026-03-02'), /from must be a date/);
  });
});

describe('DevPos rows → documents', () => {
  it('reads a sale: the buyer is the party, dates are local, the amount VAT-inclusive', () => {
    const d = readDevposRow(salesRow(), 'sales', TZ);
    assert.deepEqual(
      [d.kind, d.party, d.txnDate, d.dueDate, d.amount, d.rejected, d.selfInvoice],
      ['sales', { nuis: 'K12345678A', name: 'Blerja Sh.p.k.' }, '2026-03-29', '2026-04-28', 1200, false, false],
    );
    assert.equal(qboEntityOf(d), 'Invoice');
  });

  it('a self-invoice in the sales list is a purchase from the supplier it names', () => {
    const d = readDevposRow(
      salesRow({ selfIssuingType: 'AGREEMENT', customer: { name: 'Fermeri Ali', idNumber: 'J81234567B' } }),
      'sales',
      TZ,
    );
    assert.deepEqual(
      [d.kind, d.party, qboEntityOf(d)],
      ['purchase', { nuis: 'J81234567B', name: 'Fermeri Ali' }, 'Bill'],
    );
  });

  it('a purchase is from its seller; credit notes (≤ 0) become credits; rejected ones are marked', () => {
    const p = readDevposRow(
      salesRow({ sellerNuis: 'M01234567C', sellerName: 'Furnitori', buyerNuis: 'L91234567A', amount: -50 }),
      'purchase',
      TZ,
    );
    assert.deepEqual([p.party.nuis, qboEntityOf(p)], ['M01234567C', 'VendorCredit']);
    assert.equal(qboEntityOf(readDevposRow(salesRow({ amount: 0 }), 'sales', TZ)), 'CreditMemo');
    assert.equal(readDevposRow(salesRow({ invoiceStatus: 'Refuzuar' }), 'sales', TZ).rejected, true);
  });

  it('a party without a NUIS keeps its name; a malformed row names every problem', () => {
    assert.deepEqual(readDevposRow(salesRow({ buyerNuis: '' }), 'sales', TZ).party, {
      nuis: null,
      name: 'Blerja Sh.p.k.',
    });
    assert.throws(
      () =>
        readDevposRow(
          salesRow({ eic: 'x', amount: 'lots', invoiceCreatedDate: 'today', buyerNuis: '', buyerName: '' }),
          'sales',
          TZ,
        ),
      (err: Error) =>
        err instanceof MalformedDocumentError &&
        /eic is missing/.test(err.message) &&
        /amount is not a number/.test(err.message) &&
        /invoiceCreatedDate/.test(err.message) &&
        /neither NUIS nor name/.test(err.message),
    );
  });

  it('hashes what shapes the QuickBooks document, and derives a stable requestid of at most 50 characters', () => {
    const a = readDevposRow(salesRow(), 'sales', TZ);
    assert.equal(contentHash(a), contentHash(readDevposRow(salesRow(), 'sales', TZ)));
    assert.notEqual(contentHash(a), contentHash(readDevposRow(salesRow({ amount: 1201 }), 'sales', TZ)));
    const id = createRequestId(1, EIC, 0);
    assert.equal(id, createRequestId(1, EIC, 0));
    assert.notEqual(id, createRequestId(2, EIC, 0), 'per company');
    assert.notEqual(id, createRequestId(1, EIC, 1), 'a new generation after a deletion in QuickBooks');
    assert.ok(id.length <= 50);
  });

  it("escapes strings in QuickBooks' query language", () => {
    assert.equal(qboString("D'Angelo"), "'D\\'Angelo'");
    assert.equal(qboString('a\\b'), "'a\\\\b'");
  });
});

describe('the QuickBooks document', () => {
  it('an invoice: the party, one line with the income item, the document dates and number, the EIC twice', () => {
    const { entity, body } = qboDocument(readDevposRow(salesRow(), 'sales', TZ), '58', mapping);
    assert.equal(entity, 'Invoice');
    assert.deepEqual(body.CustomerRef, { value: '58' });
    assert.deepEqual([body.DocNumber, body.TxnDate, body.DueDate], ['17/2026', '2026-03-29', '2026-04-28']);
    assert.deepEqual(body.CurrencyRef, { value: 'ALL' });
    assert.equal(body.ExchangeRate, undefined);
    assert.match(body.PrivateNote as string, new RegExp(EIC));
    assert.deepEqual((body.CustomField as Array<{ StringValue: string }>)[0].StringValue, EIC);
    const [line] = body.Line as Array<Record<string, any>>;
    assert.deepEqual(
      [line.Amount, line.DetailType, line.SalesItemLineDetail.ItemRef.value],
      [1200, 'SalesItemLineDetail', '1'],
    );
  });

  it('a bill in euro carries its currency and rate; a credit note its absolute amount', () => {
    const doc = {
      ...readDevposRow(salesRow({ amount: -99.999 }), 'purchase', TZ),
      currency: 'EUR',
      exchangeRate: 100.5,
    };
    const { entity, body } = qboDocument(doc, '56', mapping);
    assert.equal(entity, 'VendorCredit');
    assert.deepEqual([body.CurrencyRef, body.ExchangeRate, body.DueDate], [{ value: 'EUR' }, 100.5, undefined]);
    const [line] = body.Line as Array<Record<string, any>>;
    assert.deepEqual([line.Amount, line.AccountBasedExpenseLineDetail.AccountRef.value], [100, '7']);
  });

  it('a missing item, account or VAT code is a configuration error naming it', () => {
    const sale = readDevposRow(salesRow(), 'sales', TZ);
    assert.throws(
      () => qboDocument(sale, '1', { ...mapping, incomeItemId: null }),
      (e: Error) => e instanceof ConfigurationError && /income item/.test(e.message),
    );
    assert.throws(
      () => qboDocument(readDevposRow(salesRow(), 'purchase', TZ), '1', { ...mapping, expenseAccountId: null }),
      /expense account/,
    );
    const vat = { ...mapping, tracksVat: true, taxCodes: { '20': 'TAX20' } };
    assert.deepEqual((qboDocument(sale, '1', vat, 20).body.Line as any[])[0].SalesItemLineDetail.TaxCodeRef, {
      value: 'TAX20',
    });
    assert.throws(() => qboDocument(sale, '1', vat, 6), /tax code for VAT 6%/);
    assert.equal((qboDocument(sale, '1', vat, null).body.Line as any[])[0].SalesItemLineDetail.TaxCodeRef, undefined);
  });
});

describe('party keys', () => {
  it('a NUIS keys the party; without one its normalised name does, flagged', () => {
    assert.deepEqual(partyKey({ nuis: 'k12345678a', name: 'X' }), { key: 'K12345678A', flagged: false });
    assert.deepEqual(partyKey({ nuis: null, name: '  Dyqani   i  Ri ' }), { key: 'name:dyqani i ri', flagged: true });
  });
});

describe("a refused document's stored reason", () => {
  it("is QuickBooks' message and detail, without the message twice when the detail repeats it", () => {
    assert.equal(
      faultText({
        message: 'Duplicate Document Number Error',
        detail:
          'Duplicate Document Number Error : You must specify a different number. This number has already been used.',
      }),
      'Duplicate Document Number Error : You must specify a different number. This number has already been used.',
    );
    assert.equal(
      faultText({
        message: 'Invalid Reference Id',
        detail: 'Invalid Reference Id : Accounts element id 999 not found',
      }),
      'Invalid Reference Id : Accounts element id 999 not found',
    );
    assert.equal(
      faultText({ message: 'Business Validation Error', detail: 'TxnDate is required' }),
      'Business Validation Error: TxnDate is required',
    );
    assert.equal(faultText({ message: 'Stale Object Error', detail: '' }), 'Stale Object Error');
  });
});

describe('localDate', () => {
  it("agrees with Luxon's zone conversion minute by minute across both of Tirane's DST switches, and in other zones", () => {
    const zones = ['Europe/Tirane', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
    const starts = ['2026-03-28T22:00:00Z', '2026-10-24T22:00:00Z', '2026-04-04T12:00:00Z', '2026-11-01T03:00:00Z'];
    for (const zone of zones)
      for (const start of starts)
        for (let m = 0; m < 8 * 60; m += 7) {
          const instant = new Date(Date.parse(start) + m * 60_000);
          const expected = DateTime.fromJSDate(instant).setZone(zone).toISODate();
          assert.equal(localDate(instant, zone), expected, `${instant.toISOString()} in ${zone}`);
          const offsetText = DateTime.fromJSDate(instant).setZone('UTC+3').toISO()!;
          assert.equal(localDate(offsetText, zone), expected, `${offsetText} in ${zone}`);
        }
  });
});

describe("an attachment's file name", () => {
  it('carries the number and the EIC, never a "/" (QuickBooks refuses it)', () => {
    assert.equal(
      attachmentName({ number: '12/2026', eic: '0f1e2d3c-aaaa-bbbb-cccc-000000000001' }),
      '12-2026 0f1e2d3c-aaaa-bbbb-cccc-000000000001.pdf',
    );
    assert.doesNotMatch(attachmentName({ number: 'A/1\\2/2026', eic: 'e' }), /[/\\]/);
  });
});
