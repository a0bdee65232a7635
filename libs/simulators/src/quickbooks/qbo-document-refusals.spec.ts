import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Client, Json, bill, client, faultOf, invoice, simulator } from './qbo-spec-support';

describe('QBO simulator: a document number QuickBooks refuses (refuseDocumentNumber), over HTTP', () => {
  const sim = simulator();
  let qbo: Client;
  let customerId: string;
  let vendorId: string;
  before(async () => {
    qbo = await client(sim);
    customerId = (await qbo.create('Customer', { DisplayName: 'Refusal Customer' })).body.Customer.Id;
    vendorId = (await qbo.create('Vendor', { DisplayName: 'Refusal Vendor' })).body.Vendor.Id;
  });

  it("refuses that number's document alone in a batch, with a ValidationFault on DocNumber, until accepted", async () => {
    sim.refuseDocumentNumber('7/2026');
    const batch = (requestId: string) =>
      qbo.call('POST', `batch?minorversion=75&requestid=${requestId}`, {
        BatchItemRequest: [
          { bId: 'a', operation: 'create', Invoice: invoice(customerId, 10, { DocNumber: '7/2026' }) },
          { bId: 'b', operation: 'create', Invoice: invoice(customerId, 10, { DocNumber: '8/2026' }) },
        ],
      });
    const res = await batch('refusals-1');
    assert.equal(res.status, 200);
    const [a, b] = res.body.BatchItemResponse as Json[];
    assert.equal(a.Fault.type, 'ValidationFault');
    assert.deepEqual(
      [a.Fault.Error[0].code, a.Fault.Error[0].Message, a.Fault.Error[0].element],
      ['6140', 'Duplicate Document Number Error', 'DocNumber'],
    );
    assert.match(a.Fault.Error[0].Detail, /DocNumber=7\/2026/);
    assert.equal(b.Invoice.DocNumber, '8/2026');
    assert.equal(sim.entities('Invoice').filter((i) => i.DocNumber === '7/2026').length, 0);

    assert.equal(sim.acceptDocumentNumber('7/2026'), true);
    assert.equal(sim.acceptDocumentNumber('7/2026'), false, 'nothing left to lift');
    const created = await qbo.create(
      'Invoice',
      invoice(customerId, 10, { DocNumber: '7/2026' }),
      '&requestid=refusals-2',
    );
    assert.equal(created.status, 200);
    assert.equal(created.body.Invoice.DocNumber, '7/2026');
  });

  it('a given fault refuses bills and their updates too; other entities and numbers are not touched', async () => {
    const existing = (await qbo.create('Bill', { ...bill(vendorId, 5), DocNumber: '9/2026' })).body.Bill;
    sim.refuseDocumentNumber('9/2026', {
      code: '6000',
      message: 'A business validation error has occurred',
      element: '',
    });
    const update = await qbo.update('Bill', { Id: existing.Id, SyncToken: '0', sparse: true, DocNumber: '9/2026' });
    assert.equal(update.status, 400);
    assert.deepEqual(
      [faultOf(update).code, faultOf(update).Message],
      ['6000', 'A business validation error has occurred'],
    );
    const other = await qbo.create('Bill', { ...bill(vendorId, 5), DocNumber: '10/2026' });
    assert.equal(other.status, 200);
    const customer = await qbo.create('Customer', { DisplayName: 'Number 9/2026', DocNumber: '9/2026' });
    assert.equal(customer.status, 200, 'only invoices, credit memos, bills and vendor credits are refused');
    sim.acceptDocumentNumber('9/2026');
  });

  it('the control route refuses and lifts a number for a realm, and names what is missing', async () => {
    const admin = (path: string, body: unknown) =>
      fetch(`${sim.urls.api.replace(/\/v3\/company$/, '')}/__simulator/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await admin('document-refusals', { docNumber: '11/2026', code: '6000' });
    assert.equal(refused.status, 200);
    assert.deepEqual(await refused.json(), { realm: sim.realmId, refused: ['11/2026'] });
    const res = await qbo.create('Invoice', invoice(customerId, 10, { DocNumber: '11/2026' }));
    assert.equal(faultOf(res).code, '6000');
    assert.equal((await admin('document-refusals/delete', { docNumber: '11/2026' })).status, 204);
    assert.equal((await admin('document-refusals/delete', { docNumber: '11/2026' })).status, 404);
    assert.equal((await admin('document-refusals', {})).status, 400);
    assert.equal((await qbo.create('Invoice', invoice(customerId, 10, { DocNumber: '11/2026' }))).status, 200);
  });
});
