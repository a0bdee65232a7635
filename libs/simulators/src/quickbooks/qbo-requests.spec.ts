import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Client, Json, bill, client, faultOf, invoice, simulator } from './qbo-spec-support';

describe('QBO requestid, batch and upload over HTTP', () => {
  const sim = simulator();
  let qbo: Client;
  let customerId: string;
  let vendorId: string;
  before(async () => {
    qbo = await client(sim);
    customerId = (await qbo.create('Customer', { DisplayName: 'Batch Customer' })).body.Customer.Id;
    vendorId = (await qbo.create('Vendor', { DisplayName: 'Batch Vendor' })).body.Vendor.Id;
  });

  it('the same requestid answers the first response again and creates once', async () => {
    const before = sim.entities('Invoice').length;
    const first = await qbo.create('Invoice', invoice(customerId, 70), '&requestid=co1-eic-aaa-g0');
    assert.equal(first.status, 200);
    const again = await qbo.create('Invoice', invoice(customerId, 999), '&requestid=co1-eic-aaa-g0');
    assert.deepEqual(again.body, first.body);
    assert.equal(sim.entities('Invoice').length, before + 1);
    assert.equal(sim.apiCounters().replayed, 1);
    assert.equal(sim.apiCounters().creates.Invoice, 1);

    const fault = await qbo.create('Invoice', invoice('55555'), '&requestid=co1-eic-bbb-g0');
    const faultAgain = await qbo.create('Invoice', invoice(customerId), '&requestid=co1-eic-bbb-g0');
    assert.equal(faultAgain.status, 400, 'a refused request is answered the same way too');
    assert.deepEqual(faultAgain.body, fault.body);
    const next = await qbo.create('Invoice', invoice(customerId), '&requestid=co1-eic-bbb-g1');
    assert.equal(next.status, 200);

    const tooLong = await qbo.create('Invoice', invoice(customerId), `&requestid=${'x'.repeat(51)}`);
    assert.equal(faultOf(tooLong).element, 'requestid');
  });

  it('requestid is per realm: another company may use the same one', async () => {
    const other = await client(sim, '4620816365000000002');
    const c = (await other.create('Customer', { DisplayName: 'Batch Customer' }, '&requestid=shared-id')).body.Customer;
    const mine = await qbo.create('Customer', { DisplayName: 'Second Realm Twin' }, '&requestid=shared-id');
    assert.equal(mine.body.Customer.DisplayName, 'Second Realm Twin');
    assert.equal(sim.entity('Customer', c.Id, '4620816365000000002')?.DisplayName, 'Batch Customer');
    assert.equal(sim.documents('4620816365000000002').Customer.length, 1, 'realms never mix');
  });

  it('a batch answers every item by bId: entities, its own Faults, queries, updates', async () => {
    const existing = (await qbo.create('Bill', bill(vendorId, 5))).body.Bill;
    const res = await qbo.call('POST', 'batch?minorversion=75', {
      BatchItemRequest: [
        { bId: 'a', operation: 'create', Invoice: invoice(customerId, 10, { DocNumber: '1/2025' }) },
        { bId: 'b', operation: 'create', Invoice: invoice('31337', 10) },
        { bId: 'c', operation: 'create', Bill: bill(vendorId, 20) },
        { bId: 'd', operation: 'update', Bill: { Id: existing.Id, SyncToken: '7', sparse: true, PrivateNote: 'x' } },
        { bId: 'e', Query: "SELECT * FROM Customer WHERE DisplayName = 'Batch Customer'" },
        { bId: 'f', operation: 'create', Customer: { DisplayName: 'Batch Vendor' } },
        { bId: 'g', operation: 'update', Bill: { Id: existing.Id, SyncToken: '0', sparse: true, PrivateNote: 'ok' } },
      ],
    });
    assert.equal(res.status, 200);
    const byId = Object.fromEntries((res.body.BatchItemResponse as Json[]).map((r) => [r.bId, r]));
    assert.deepEqual(Object.keys(byId), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    assert.equal(byId.a.Invoice.DocNumber, '1/2025');
    assert.equal(byId.b.Fault.Error[0].code, '2500');
    assert.equal(byId.b.Fault.type, 'ValidationFault');
    assert.equal(byId.c.Bill.TotalAmt, 20);
    assert.equal(byId.d.Fault.Error[0].code, '5010');
    assert.equal(byId.e.QueryResponse.Customer[0].Id, customerId);
    assert.equal(byId.f.Fault.Error[0].code, '6240');
    assert.equal(byId.g.Bill.SyncToken, '1');
    const counters = sim.apiCounters();
    assert.equal(counters.batches, 1);
    assert.equal(counters.batchItems, 7);
  });

  it('a batch replays by requestid; more than 30 items is a 400 fault', async () => {
    const body = { BatchItemRequest: [{ bId: '1', operation: 'create', Invoice: invoice(customerId, 33) }] };
    const first = await qbo.call('POST', 'batch?requestid=run7-batch-1', body);
    const again = await qbo.call('POST', 'batch?requestid=run7-batch-1', body);
    assert.deepEqual(again.body, first.body);
    assert.equal(sim.entities('Invoice').filter((i) => i.TotalAmt === 33).length, 1);
    const items = Array.from({ length: 31 }, (_, i) => ({
      bId: String(i),
      operation: 'create',
      Invoice: invoice(customerId),
    }));
    const tooMany = await qbo.call('POST', 'batch', { BatchItemRequest: items });
    assert.equal(tooMany.status, 400);
    assert.equal(faultOf(tooMany).element, 'BatchItemRequest');
    const tooLongId = await qbo.call('POST', `batch?requestid=${'b'.repeat(37)}`, body);
    assert.equal(tooLongId.status, 400);
  });

  const upload = (boundary: string, meta: Json, fileName: string, content: string) =>
    qbo.call(
      'POST',
      'upload?minorversion=75',
      [
        `--${boundary}`,
        'Content-Disposition: form-data; name="file_metadata_01"; filename="attachment.json"',
        'Content-Type: application/json',
        '',
        JSON.stringify(meta),
        `--${boundary}`,
        `Content-Disposition: form-data; name="file_content_01"; filename="${fileName}"`,
        'Content-Type: application/pdf',
        '',
        content,
        `--${boundary}--`,
        '',
      ].join('\r\n'),
      `multipart/form-data; boundary=${boundary}`,
    );

  it('/upload makes an Attachable linked to the invoice and answers AttachableResponse', async () => {
    const inv = (await qbo.create('Invoice', invoice(customerId, 44))).body.Invoice;
    const meta = {
      AttachableRef: [{ EntityRef: { type: 'Invoice', value: inv.Id }, IncludeOnSend: false }],
      FileName: 'invoice-12-2024.pdf',
      ContentType: 'application/pdf',
    };
    const res = await upload('sim-boundary-1', meta, 'invoice-12-2024.pdf', '%PDF-1.4 fake');
    assert.equal(res.status, 200);
    const att = res.body.AttachableResponse[0].Attachable;
    assert.equal(att.FileName, 'invoice-12-2024.pdf');
    assert.equal(att.ContentType, 'application/pdf');
    assert.equal(att.Size, 13);
    assert.equal(att.SyncToken, '0');
    assert.deepEqual(att.AttachableRef[0].EntityRef, { type: 'Invoice', value: inv.Id });
    assert.ok(att.FileAccessUri);
    assert.equal(sim.attachmentContent(att.Id), '%PDF-1.4 fake');
    assert.equal(sim.apiCounters().uploads, 1);
    const linked = await qbo.query(`SELECT * FROM Attachable WHERE AttachableRef.EntityRef.value = '${inv.Id}'`);
    assert.equal(linked.body.QueryResponse.Attachable.length, 1);
  });

  it('/upload refuses a file name with "/", an unknown entity and a body that is not multipart', async () => {
    const inv = sim.entities('Invoice')[0];
    const slash = await upload(
      'b2',
      { AttachableRef: [{ EntityRef: { type: 'Invoice', value: inv.Id } }], FileName: 'a/b.pdf' },
      'x.pdf',
      'x',
    );
    assert.equal(slash.status, 400);
    assert.equal(faultOf(slash).element, 'FileName');
    const nameOnly = await upload(
      'b3',
      { AttachableRef: [{ EntityRef: { type: 'Invoice', value: inv.Id } }] },
      '1/2024.pdf',
      'x',
    );
    assert.equal(faultOf(nameOnly).element, 'FileName', 'the file part name is checked when the metadata has none');
    const unknown = await upload(
      'b4',
      { AttachableRef: [{ EntityRef: { type: 'Bill', value: '9999' } }] },
      'ok.pdf',
      'x',
    );
    assert.equal(faultOf(unknown).code, '2500');
    const json = await qbo.call('POST', 'upload', { FileName: 'x.pdf' });
    assert.equal(json.status, 400);
    assert.equal(sim.apiCounters().uploads, 1);
  });
});

describe('QBO per-realm limits and the fault switch', () => {
  const sim = simulator({ limits: { requestsPerMinute: 6, batchesPerMinute: 2, concurrent: 2 } });
  let qbo: Client;
  before(async () => {
    qbo = await client(sim);
  });

  it('over the requests per minute: 429 ThrottleExceeded without Retry-After, until a minute has passed', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await qbo.read('Item', '1')).status, 200);
    const limited = await qbo.read('Item', '1');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), null);
    assert.ok(limited.headers.get('intuit_tid'));
    const f = limited.body.Fault.Error[0];
    assert.deepEqual([f.Message, f.code, limited.body.Fault.type], ['ThrottleExceeded', '003001', 'ValidationFault']);
    assert.equal(sim.apiCounters().throttled, 1);
    const other = await client(sim, '4620816365000000009');
    assert.equal((await other.read('Item', '1')).status, 200, 'another realm has its own window');
    sim.advance(60);
    assert.equal((await qbo.read('Item', '1')).status, 200);
  });

  it('batch calls have their own 40/min (scaled) window', async () => {
    sim.advance(60);
    const c = (await qbo.create('Customer', { DisplayName: 'Limited' })).body.Customer;
    const batch = () =>
      qbo.call('POST', 'batch', { BatchItemRequest: [{ bId: '1', operation: 'create', Invoice: invoice(c.Id) }] });
    assert.equal((await batch()).status, 200);
    assert.equal((await batch()).status, 200);
    assert.equal((await batch()).status, 429);
    assert.equal((await qbo.read('Item', '1')).status, 200, 'plain requests still pass');
    sim.advance(61);
    assert.equal((await batch()).status, 200);
  });

  it('more than the concurrent limit in flight at once is 429', async () => {
    sim.advance(60);
    sim.setFaults({ latencyMs: 150, target: 'api' });
    const answers = await Promise.all([1, 2, 3].map(() => qbo.read('Item', '1')));
    sim.clearFaults();
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 429]);
  });

  it('the fault switch reaches every API route: query, batch, upload, entities', async () => {
    sim.advance(60);
    sim.setFaults({ errorRate: 1, target: 'api' });
    const answers = [
      await qbo.query('SELECT * FROM Item'),
      await qbo.call('POST', 'batch', { BatchItemRequest: [] }),
      await qbo.create('Customer', { DisplayName: 'Faulted' }),
      await qbo.read('Item', '1'),
    ];
    sim.setFaults({ errorRate: 0, rateLimitRate: 1, retryAfterSeconds: 3 });
    const throttled = await qbo.call('POST', 'upload', 'x', 'multipart/form-data; boundary=z');
    sim.clearFaults();
    assert.deepEqual(
      answers.map((a) => [a.status, a.body.Fault.type]),
      Array(4).fill([503, 'SystemFault']),
    );
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '3', 'injected throttles keep their Retry-After switch');
    assert.equal(sim.entities('Customer').filter((c) => c.DisplayName === 'Faulted').length, 0);
  });

  it("the fault switch's method: GET faults reads and queries while writes pass", async () => {
    sim.advance(60);
    sim.setFaults({ errorRate: 1, target: 'api', method: 'GET' });
    const read = await qbo.read('Item', '1');
    const query = await qbo.query('SELECT * FROM Item');
    const write = await qbo.create('Customer', { DisplayName: 'Written While Reads Fail' });
    sim.clearFaults();
    assert.deepEqual([read.status, query.status, write.status], [503, 503, 200]);
    assert.equal(sim.faults.method, null, 'cleared with the rest');
    assert.equal((await qbo.read('Item', '1')).status, 200);
  });
});

describe('QBO limits changed at run time, a shorter window, and the create refusal switch', () => {
  const sim = simulator();
  let qbo: Client;
  before(async () => {
    qbo = await client(sim);
  });

  it('setLimits tightens a realm already in use; a window of 1 s clears after a second, not a minute', async () => {
    assert.equal((await qbo.read('Item', '1')).status, 200, 'the realm is in use under the default limits');
    sim.setLimits({ requestsPerMinute: 2, windowMs: 1000 });
    sim.advance(60);
    assert.equal((await qbo.read('Item', '1')).status, 200);
    assert.equal((await qbo.read('Item', '1')).status, 200);
    const limited = await qbo.read('Item', '1');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), null, 'as Intuit: no Retry-After');
    sim.advance(1.001);
    assert.equal((await qbo.read('Item', '1')).status, 200, 'the short window has cleared');
    const state = (await (
      await fetch(`${sim.urls.api.replace(/\/v3\/company$/, '')}/__simulator/state`)
    ).json()) as Json;
    assert.deepEqual(state.limits, { requestsPerMinute: 2, concurrent: 10, batchesPerMinute: 40, windowMs: 1000 });
    const loosened = await fetch(`${sim.urls.api.replace(/\/v3\/company$/, '')}/__simulator/limits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requestsPerMinute: 500, windowMs: 60000 }),
    });
    assert.equal(loosened.status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await qbo.read('Item', '1')).status, 200);
  });

  it('refuseCreatesMatching refuses one batch item by PrivateNote, and a lone create by DocNumber; null lifts it', async () => {
    const c = (await qbo.create('Customer', { DisplayName: 'Refusal Customer' })).body.Customer;
    const before = sim.apiCounters().creates.Invoice ?? 0;
    sim.refuseCreatesMatching(/EIC refuse-me/);
    const batch = await qbo.call('POST', 'batch', {
      BatchItemRequest: [
        { bId: 'a', operation: 'create', Invoice: invoice(c.Id, 10, { PrivateNote: 'DevPos EIC keep-me' }) },
        { bId: 'b', operation: 'create', Invoice: invoice(c.Id, 20, { PrivateNote: 'DevPos EIC refuse-me' }) },
      ],
    });
    assert.equal(batch.status, 200);
    const [kept, refused] = batch.body.BatchItemResponse as Json[];
    assert.equal(kept.Invoice.TotalAmt, 10);
    assert.equal(refused.Fault.type, 'ValidationFault');
    assert.deepEqual([refused.Fault.Error[0].code, refused.Fault.Error[0].element], ['6000', 'PrivateNote']);
    assert.match(refused.Fault.Error[0].Detail, /^Business Validation Error: The Invoice was refused/);
    assert.equal(sim.apiCounters().creates.Invoice, before + 1, 'only the kept one counts');

    sim.refuseCreatesMatching(/^77\/2026$/);
    const lone = await qbo.create(
      'Bill',
      bill((await qbo.create('Vendor', { DisplayName: 'Refusal Vendor' })).body.Vendor.Id, 5),
    );
    assert.equal(lone.status, 200, 'no DocNumber: not refused');
    const numbered = await qbo.create('Invoice', invoice(c.Id, 30, { DocNumber: '77/2026' }));
    assert.equal(faultOf(numbered).element, 'DocNumber');
    const customer = await qbo.create('Customer', { DisplayName: '77/2026' });
    assert.equal(customer.status, 200, 'only transactions are refused');
    sim.refuseCreatesMatching(null);
    assert.equal((await qbo.create('Invoice', invoice(c.Id, 30, { DocNumber: '77/2026' }))).status, 200);
  });
});
