import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { QboFault } from './qbo-model';
import { parseQboQuery } from './qbo-query';
import { Client, Json, client, faultOf, invoice, simulator } from './qbo-spec-support';

describe('QBO query language: the parser', () => {
  it('reads the full grammar with case-insensitive keywords', () => {
    const q = parseQboQuery(
      "select * from invoice where MetaData.LastUpdatedTime > '2024-01-01T00:00:00-08:00' and TotalAmt >= 10 " +
        'orderby MetaData.LastUpdatedTime desc startposition 11 maxresults 10',
    );
    assert.equal(q.entity, 'Invoice');
    assert.equal(q.count, false);
    assert.deepEqual(q.where, [
      { field: 'MetaData.LastUpdatedTime', op: '>', values: ['2024-01-01T00:00:00-08:00'] },
      { field: 'TotalAmt', op: '>=', values: [10] },
    ]);
    assert.deepEqual(q.orderBy, [{ field: 'MetaData.LastUpdatedTime', desc: true }]);
    assert.equal(q.startPosition, 11);
    assert.equal(q.maxResults, 10);
  });

  it("unescapes \\' in strings, reads IN lists, COUNT(*), and defaults to 100 rows, at most 1000", () => {
    const q = parseQboQuery(
      "SELECT COUNT(*) FROM Customer WHERE DisplayName IN ('O\\'Brien', 'Plain') AND Active = true",
    );
    assert.equal(q.count, true);
    assert.deepEqual(q.where[0].values, ["O'Brien", 'Plain']);
    assert.deepEqual(q.where[1].values, [true]);
    assert.equal(q.maxResults, 100);
    assert.equal(parseQboQuery('SELECT * FROM Item MAXRESULTS 5000').maxResults, 1000);
    assert.deepEqual(parseQboQuery('SELECT Id, DisplayName FROM Vendor').fields, ['Id', 'DisplayName']);
  });

  it('refuses what Intuit refuses: OR, unknown entities, bad tokens, unterminated strings, zero positions', () => {
    for (const bad of [
      "SELECT * FROM Customer WHERE DisplayName = 'a' OR DisplayName = 'b'",
      'SELECT * FROM Nothing',
      "SELECT * FROM Customer WHERE DisplayName = 'open",
      'SELECT * FROM Customer WHERE Balance != 3',
      'SELECT * FROM Customer STARTPOSITION 0',
      'SELECT * Customer',
      '',
    ])
      assert.throws(
        () => parseQboQuery(bad),
        (e: unknown) => e instanceof QboFault && e.code === '4000' && e.title === 'Error parsing query',
        bad,
      );
  });
});

describe('QBO query over HTTP', () => {
  const sim = simulator();
  let qbo: Client;
  before(async () => {
    qbo = await client(sim);
    for (const name of ["O'Brien Ltd", 'Alba Trade', 'Albanian Foods', 'Zeta'])
      assert.equal((await qbo.create('Customer', { DisplayName: name })).status, 200);
    sim.advance(10);
    await qbo.create('Customer', { DisplayName: 'Later One' });
  });

  it('finds a name with an escaped quote, by =, case-insensitively', async () => {
    const res = await qbo.query("select * from Customer where DisplayName = 'o\\'brien ltd'");
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.QueryResponse.Customer.map((c: { DisplayName: string }) => c.DisplayName),
      ["O'Brien Ltd"],
    );
    assert.equal(res.body.QueryResponse.startPosition, 1);
    assert.equal(res.body.QueryResponse.maxResults, 1);
    assert.ok(res.body.time);
  });

  it('IN, LIKE with %, ORDERBY DESC, COUNT(*) and the empty answer', async () => {
    const names = (r: { body: Json }) =>
      ((r.body.QueryResponse.Customer ?? []) as Array<{ DisplayName: string }>).map((c) => c.DisplayName);
    assert.deepEqual(names(await qbo.query("SELECT * FROM Customer WHERE DisplayName IN ('Zeta', 'Alba Trade')")), [
      'Alba Trade',
      'Zeta',
    ]);
    assert.deepEqual(
      names(await qbo.query("SELECT * FROM Customer WHERE DisplayName LIKE 'alba%' ORDERBY DisplayName DESC")),
      ['Albanian Foods', 'Alba Trade'],
    );
    assert.deepEqual(names(await qbo.query("SELECT * FROM Customer WHERE DisplayName LIKE '%foods'")), [
      'Albanian Foods',
    ]);
    const count = await qbo.query("SELECT COUNT(*) FROM Customer WHERE DisplayName LIKE 'Al%'");
    assert.deepEqual(count.body.QueryResponse, { totalCount: 2 });
    const none = await qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody'");
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.QueryResponse, {});
  });

  it('compares nested MetaData times as instants, and pages with STARTPOSITION / MAXRESULTS', async () => {
    const first = sim.entities('Customer').find((c) => c.DisplayName === 'Zeta')!;
    const since = (first.MetaData as { LastUpdatedTime: string }).LastUpdatedTime;
    const later = await qbo.query(`SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '${since}'`);
    assert.deepEqual(
      later.body.QueryResponse.Customer.map((c: { DisplayName: string }) => c.DisplayName),
      ['Later One'],
    );
    const utc = new Date(Date.parse(since)).toISOString();
    const sameInstant = await qbo.query(`SELECT COUNT(*) FROM Customer WHERE MetaData.LastUpdatedTime <= '${utc}'`);
    assert.equal(sameInstant.body.QueryResponse.totalCount, 4, 'another offset, the same instant');
    const page1 = await qbo.query('SELECT * FROM Customer ORDERBY DisplayName STARTPOSITION 1 MAXRESULTS 2');
    const page3 = await qbo.query('SELECT * FROM Customer ORDERBY DisplayName STARTPOSITION 5 MAXRESULTS 2');
    assert.equal(page1.body.QueryResponse.maxResults, 2);
    assert.deepEqual(
      page1.body.QueryResponse.Customer.map((c: { DisplayName: string }) => c.DisplayName),
      ['Alba Trade', 'Albanian Foods'],
    );
    assert.equal(page3.body.QueryResponse.startPosition, 5);
    assert.equal(page3.body.QueryResponse.maxResults, 1);
  });

  it('refs compare by value; inactive names are left out unless Active is asked for', async () => {
    const c = sim.entities('Customer').find((x) => x.DisplayName === 'Zeta')!;
    const inv = (await qbo.create('Invoice', invoice(c.Id, 12))).body.Invoice;
    const byRef = await qbo.query(`SELECT * FROM Invoice WHERE CustomerRef = '${c.Id}'`);
    assert.deepEqual(
      byRef.body.QueryResponse.Invoice.map((i: { Id: string }) => i.Id),
      [inv.Id],
    );
    await qbo.update('Customer', { Id: c.Id, SyncToken: c.SyncToken, sparse: true, Active: false });
    assert.deepEqual((await qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Zeta'")).body.QueryResponse, {});
    const asked = await qbo.query("SELECT * FROM Customer WHERE DisplayName = 'Zeta' AND Active IN (true, false)");
    assert.equal(asked.body.QueryResponse.Customer.length, 1);
  });

  it('takes the query as a POST body (application/text), and answers a parse error as a 400 fault 4000', async () => {
    const posted = await qbo.call(
      'POST',
      'query?minorversion=75',
      "SELECT * FROM Item WHERE Name = 'Sales'",
      'application/text',
    );
    assert.equal(posted.status, 200);
    assert.equal(posted.body.QueryResponse.Item[0].Id, '1');
    const bad = await qbo.query('SELECT * FROM Customer WHERE');
    assert.equal(bad.status, 400);
    const f = faultOf(bad);
    assert.equal(f.code, '4000');
    assert.match(f.Detail, /^QueryParserError: /);
    assert.ok(sim.apiCounters().queries >= 8);
  });
});
