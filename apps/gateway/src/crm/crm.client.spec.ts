import assert from 'node:assert/strict';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { CrmClient } from './crm.client';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** An HTTP server standing in for crm-sync at the process edge: it records requests and answers as told. */
async function crmSyncStandIn(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      if (req.url === '/api/crm/customers/7/sync') {
        // Answers after the client stopped waiting: the run behind it is still going.
        setTimeout(() => res.writeHead(200).end('{}'), 1500);
      } else if (req.url!.endsWith('/push')) {
        res.writeHead(409, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ statusCode: 409, message: 'a Robaws customer job (pull or push) is running' }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ data: [], next_cursor: null }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('CrmClient (the gateway to crm-sync, over HTTP)', () => {
  let standIn: Awaited<ReturnType<typeof crmSyncStandIn>>;
  let client: CrmClient;
  const key = 'Bearer caller-key-0123456789';
  before(async () => {
    standIn = await crmSyncStandIn();
    client = new CrmClient(loadConfig('gateway', { CRM_SYNC_URL: standIn.url }));
  });
  after(() => standIn.close());

  it("forwards every route with the caller's key, the query string as it came, the id as one path segment and the body", async () => {
    const list = await client.customers('?q=0470%2012&role=CUSTOMER&dirty=true', key);
    assert.deepEqual([list.status, list.body], [200, { data: [], next_cursor: null }]);
    await client.duplicates('', key);
    await client.customer('../../health', key);
    await client.update('5', { city: 'Gent' }, key);
    const busy = await client.run('5', 'push', key);
    assert.deepEqual(
      [busy.status, (busy.body as { message: string }).message],
      [409, 'a Robaws customer job (pull or push) is running'],
    );
    await client.resolve('5', { keep: 'local' }, key);
    assert.deepEqual(
      standIn.seen.map((s) => [s.method, s.url, s.authorization]),
      [
        ['GET', '/api/crm/customers?q=0470%2012&role=CUSTOMER&dirty=true', key],
        ['GET', '/api/crm/customers/duplicates', key],
        ['GET', '/api/crm/customers/..%2F..%2Fhealth', key],
        ['PATCH', '/api/crm/customers/5', key],
        ['POST', '/api/crm/customers/5/push', key],
        ['POST', '/api/crm/customers/5/resolve', key],
      ],
    );
    assert.deepEqual(JSON.parse(standIn.seen[3].body), { city: 'Gent' });
    assert.deepEqual(JSON.parse(standIn.seen[5].body), { keep: 'local' });
  });

  it('a sync crm-sync does not answer in time is a 504 that says the run may still be going', async () => {
    const impatient = new CrmClient(loadConfig('gateway', { CRM_SYNC_URL: standIn.url }));
    impatient.runTimeoutMs = 300;
    const answer = await impatient.run('7', 'sync', key);
    assert.equal(answer.status, 504);
    assert.match(String((answer.body as { message: string }).message), /did not answer within 0\.3 s/);
    assert.match(answer.text, /GET \/api\/runs/);
  });

  it('an unreachable crm-sync is a 502 that names it and CRM_SYNC_URL', async () => {
    const down = new CrmClient(loadConfig('gateway', { CRM_SYNC_URL: 'http://127.0.0.1:9' }));
    const answer = await down.customers('', key);
    assert.equal(answer.status, 502);
    assert.match(String((answer.body as { message: string }).message), /^crm-sync is unreachable \(/);
    assert.match(answer.text, /CRM_SYNC_URL/);
  });
});
