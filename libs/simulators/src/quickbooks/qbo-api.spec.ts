import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Client, Json, bill, client, faultOf, invoice, simulator } from './qbo-spec-support';

describe('QuickBooksSimulator: entities, SyncToken and validation over HTTP', () => {
  const sim = simulator();
  let qbo: Client;
  before(async () => {
    qbo = await client(sim);
  });

  it('seeds every realm with items, accounts and tax codes a client can reference', async () => {
    const item = await qbo.read('Item', '1');
    assert.equal(item.status, 200);
    assert.equal(item.body.Item.Name, 'Sales');
    assert.equal(item.body.Item.IncomeAccountRef.value, '1');
    const docs = sim.documents();
    assert.ok(docs.Account.some((a) => a.AccountType === 'Expense'));
    assert.ok(docs.TaxCode.length >= 3);
    assert.deepEqual(docs.Customer, []);
  });

  it('creates, reads and sparse-updates an invoice; SyncToken counts up; a stale one is 5010', async () => {
    const customer = await qbo.create('Customer', {
      DisplayName: 'Alba Trade shpk',
      PrimaryEmailAddr: { Address: 'a@b.al' },
    });
    assert.equal(customer.status, 200);
    const c = customer.body.Customer;
    assert.match(c.Id, /^\d+$/);
    assert.equal(c.SyncToken, '0');
    assert.ok(c.MetaData.CreateTime && c.MetaData.LastUpdatedTime);
    assert.ok(customer.body.time);

    const created = await qbo.create('Invoice', invoice(c.Id, 150, { DocNumber: '12/2024', TxnDate: '2024-05-02' }));
    assert.equal(created.status, 200);
    const inv = created.body.Invoice;
    assert.equal(inv.SyncToken, '0');
    assert.equal(inv.TotalAmt, 150);
    assert.equal(inv.Balance, 150);
    assert.equal(inv.DocNumber, '12/2024');
    assert.equal(inv.Line[0].LineNum, 1);
    assert.equal(inv.Line.at(-1).DetailType, 'SubTotalLineDetail');
    assert.equal(inv.CurrencyRef.value, 'ALL');
    assert.deepEqual((await qbo.read('Invoice', inv.Id)).body.Invoice, inv);

    sim.advance(5);
    const updated = await qbo.update('Invoice', { Id: inv.Id, SyncToken: '0', sparse: true, PrivateNote: 'EIC abc' });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.Invoice.SyncToken, '1');
    assert.equal(updated.body.Invoice.PrivateNote, 'EIC abc');
    assert.equal(updated.body.Invoice.DocNumber, '12/2024', 'a sparse update keeps what it does not name');
    assert.equal(updated.body.Invoice.MetaData.CreateTime, inv.MetaData.CreateTime);
    assert.notEqual(updated.body.Invoice.MetaData.LastUpdatedTime, inv.MetaData.LastUpdatedTime);

    const stale = await qbo.update('Invoice', { Id: inv.Id, SyncToken: '0', sparse: true, PrivateNote: 'late' });
    assert.equal(stale.status, 400);
    const f = faultOf(stale);
    assert.equal(f.code, '5010');
    assert.equal(f.Message, 'Stale Object Error');
    assert.equal(sim.entity('Invoice', inv.Id)?.PrivateNote, 'EIC abc');

    const full = await qbo.update('Invoice', { ...invoice(c.Id, 90), Id: inv.Id, SyncToken: '1' });
    assert.equal(full.body.Invoice.SyncToken, '2');
    assert.equal(full.body.Invoice.TotalAmt, 90);
    assert.equal(full.body.Invoice.PrivateNote, undefined, 'a full update replaces the entity');
    assert.deepEqual(sim.apiCounters().updates, { Invoice: 2 });
  });

  it('answers 610 Object Not Found for an unknown id and for one deleted in QBO out of band', async () => {
    const missing = await qbo.read('Invoice', '999999');
    assert.equal(missing.status, 400);
    assert.equal(faultOf(missing).code, '610');
    const vendor = await qbo.create('Vendor', { DisplayName: 'Deleted Later sha' });
    assert.ok(sim.deleteEntity('Vendor', vendor.body.Vendor.Id));
    assert.equal(faultOf(await qbo.read('Vendor', vendor.body.Vendor.Id)).code, '610');
    const upd = await qbo.update('Vendor', { Id: vendor.body.Vendor.Id, SyncToken: '0', sparse: true, Active: false });
    assert.equal(faultOf(upd).code, '610');
  });

  it('a SyncToken bumped out of band makes the client stale (5010)', async () => {
    const c = (await qbo.create('Customer', { DisplayName: 'Edited Elsewhere' })).body.Customer;
    assert.equal(sim.bumpSyncToken('Customer', c.Id).SyncToken, '1');
    const res = await qbo.update('Customer', { Id: c.Id, SyncToken: '0', sparse: true, Notes: 'x' });
    assert.equal(faultOf(res).code, '5010');
    assert.equal((await qbo.update('Customer', { Id: c.Id, SyncToken: '1', sparse: true, Notes: 'x' })).status, 200);
  });

  it('DisplayName is unique across customers, vendors and employees (6240), case-insensitively', async () => {
    assert.equal((await qbo.create('Customer', { DisplayName: 'Shared Name' })).status, 200);
    const asVendor = await qbo.create('Vendor', { DisplayName: 'shared name' });
    assert.equal(asVendor.status, 400);
    const f = faultOf(asVendor);
    assert.equal(f.code, '6240');
    assert.equal(f.Message, 'Duplicate Name Exists Error');
    assert.match(f.Detail, /The name supplied already exists\. : Another customer, vendor or employee.*"shared name"/);
    sim.putEntity('Employee', { DisplayName: 'Staff Member', GivenName: 'Staff', FamilyName: 'Member' });
    assert.equal(faultOf(await qbo.create('Customer', { GivenName: 'Staff', FamilyName: 'Member' })).code, '6240');
    const parts = await qbo.create('Vendor', { Title: 'Mr', GivenName: 'Arben', FamilyName: 'Hoxha' });
    assert.equal(parts.body.Vendor.DisplayName, 'Mr Arben Hoxha');
    const other = (await qbo.create('Customer', { DisplayName: 'Renamed Later' })).body.Customer;
    const rename = await qbo.update('Customer', {
      Id: other.Id,
      SyncToken: '0',
      sparse: true,
      DisplayName: 'Shared Name',
    });
    assert.equal(faultOf(rename).code, '6240');
    const same = await qbo.update('Customer', {
      Id: other.Id,
      SyncToken: '0',
      sparse: true,
      DisplayName: 'Renamed Later',
    });
    assert.equal(same.status, 200, 'keeping its own name is not a duplicate');
  });

  it('refuses missing required fields (2020) and unknown references (2500) with the element', async () => {
    const noName = await qbo.create('Customer', { PrimaryEmailAddr: { Address: 'x@y.al' } });
    assert.deepEqual([faultOf(noName).code, faultOf(noName).element], ['2020', 'DisplayName']);
    const noCustomer = await qbo.create('Invoice', { Line: invoice('1').Line });
    assert.deepEqual([faultOf(noCustomer).code, faultOf(noCustomer).element], ['2020', 'CustomerRef']);
    const c = (await qbo.create('Customer', { DisplayName: 'Lines Needed' })).body.Customer;
    const noLines = await qbo.create('Invoice', { CustomerRef: { value: c.Id }, Line: [] });
    assert.deepEqual([faultOf(noLines).code, faultOf(noLines).element], ['2020', 'Line']);
    const badCustomer = await qbo.create('CreditMemo', invoice('424242'));
    assert.deepEqual([faultOf(badCustomer).code, faultOf(badCustomer).element], ['2500', 'CustomerRef']);
    const badItem = await qbo.create('Invoice', {
      CustomerRef: { value: c.Id },
      Line: [{ Amount: 1, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: { value: '777' } } }],
    });
    assert.deepEqual([faultOf(badItem).code, faultOf(badItem).element], ['2500', 'Line.SalesItemLineDetail.ItemRef']);
    const noVendor = await qbo.create('Bill', { Line: bill('1').Line });
    assert.deepEqual([faultOf(noVendor).code, faultOf(noVendor).element], ['2020', 'VendorRef']);
    const v = (await qbo.create('Vendor', { DisplayName: 'Account Checked' })).body.Vendor;
    const badAccount = await qbo.create('VendorCredit', bill(v.Id, 10, '888'));
    assert.equal(faultOf(badAccount).code, '2500');
    const good = await qbo.create('VendorCredit', bill(v.Id, 10));
    assert.equal(good.status, 200);
    assert.equal(good.body.VendorCredit.TotalAmt, 10);
    const notJson = await qbo.call('POST', 'customer', 'not json', 'application/text');
    assert.equal(notJson.status, 400);
    assert.equal(sim.apiCounters().creates.VendorCredit, 1, 'refused creates are not counted');
  });

  it('a transaction must be in its party currency (6000); a EUR party takes EUR documents', async () => {
    const eur = (await qbo.create('Customer', { DisplayName: 'Euro Client', CurrencyRef: { value: 'EUR' } })).body
      .Customer;
    const ok = await qbo.create(
      'Invoice',
      invoice(eur.Id, 100, { CurrencyRef: { value: 'EUR' }, ExchangeRate: 100.5 }),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.body.Invoice.CurrencyRef.value, 'EUR');
    assert.equal(ok.body.Invoice.ExchangeRate, 100.5);
    const wrong = await qbo.create('Invoice', invoice(eur.Id, 100, { CurrencyRef: { value: 'ALL' } }));
    assert.deepEqual([faultOf(wrong).code, faultOf(wrong).element], ['6000', 'CurrencyRef']);
  });

  it('deletes a transaction with its SyncToken; name lists cannot be deleted', async () => {
    const v = (await qbo.create('Vendor', { DisplayName: 'Bill Deleter' })).body.Vendor;
    const b = (await qbo.create('Bill', bill(v.Id))).body.Bill;
    const gone = await qbo.call('POST', 'bill?operation=delete', { Id: b.Id, SyncToken: '0' });
    assert.deepEqual(gone.body.Bill, { status: 'Deleted', domain: 'QBO', Id: b.Id });
    assert.equal(faultOf(await qbo.read('Bill', b.Id)).code, '610');
    const refused = await qbo.call('POST', 'vendor?operation=delete', { Id: v.Id, SyncToken: '0' });
    assert.equal(faultOf(refused).code, '500');
  });

  it('the inspection route lists a realm’s documents by type, and its counters', async () => {
    const root = sim.urls.api.replace('/v3/company', '');
    const all = (await (await fetch(`${root}/__simulator/documents?realm=${sim.realmId}`)).json()) as Json;
    assert.equal(all.realm, sim.realmId);
    assert.ok(all.documents.Invoice.length >= 1);
    const one = (await (await fetch(`${root}/__simulator/documents?type=invoice`)).json()) as Json;
    assert.deepEqual(Object.keys(one.documents), ['Invoice']);
    const counters = (await (await fetch(`${root}/__simulator/counters`)).json()) as Json;
    assert.ok(counters.creates.Invoice >= 1);
    const put = await fetch(`${root}/__simulator/entities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'Customer', entity: { DisplayName: 'Made In QBO' } }),
    });
    const made = ((await put.json()) as Json).Customer;
    assert.equal((await qbo.read('Customer', made.Id)).body.Customer.DisplayName, 'Made In QBO');
    const bump = await fetch(`${root}/__simulator/entities/bump`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'customer', id: made.Id }),
    });
    assert.equal(((await bump.json()) as Json).Customer.SyncToken, '1');
    const del = await fetch(`${root}/__simulator/entities/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'Customer', id: made.Id }),
    });
    assert.equal(del.status, 204);
    assert.equal(faultOf(await qbo.read('Customer', made.Id)).code, '610');
    const unknown = await fetch(`${root}/__simulator/documents?type=Nope`);
    assert.equal(unknown.status, 400);
  });
});
