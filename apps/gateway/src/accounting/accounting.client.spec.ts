import assert from 'node:assert/strict';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { AccountingClient } from './accounting.client';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** An HTTP server standing in for accounting-sync at the process edge: it records requests and answers as told. */
async function accountingSyncStandIn(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      if (req.url!.includes('/documents/slow/retry')) {
        // Answers after the client stopped waiting: the run behind it is still going.
        setTimeout(() => res.writeHead(200).end('{}'), 1500);
      } else if (req.url!.endsWith('/retry')) {
        res.writeHead(409, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ statusCode: 409, message: 'the sales job is running for company 3' }));
      } else if (req.url!.startsWith('/oauth/quickbooks/callback?state=good')) {
        res.writeHead(302, { location: '/?company=3&quickbooks=connected' }).end('Found. Redirecting');
      } else if (req.url!.startsWith('/oauth/quickbooks/callback')) {
        res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ statusCode: 400, message: 'invalid state' }));
      } else if (req.method === 'DELETE') {
        res.writeHead(204).end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify([{ company_id: 3, provider: 'quickbooks', connected: false }]));
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

describe('AccountingClient (the gateway to accounting-sync, over HTTP)', () => {
  let standIn: Awaited<ReturnType<typeof accountingSyncStandIn>>;
  let client: AccountingClient;
  before(async () => {
    standIn = await accountingSyncStandIn();
    client = new AccountingClient(loadConfig('gateway', { ACCOUNTING_SYNC_URL: standIn.url }));
  });
  after(() => standIn.close());

  it("forwards the caller's key and body, and answers the JSON as sent", async () => {
    const list = await client.connections('3', 'Bearer caller-key-0123456789');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, [{ company_id: 3, provider: 'quickbooks', connected: false }]);
    assert.match(list.contentType ?? '', /application\/json/);
    await client.putDevpos('3', { username: 'u', password: 'p', tenant: 'K12345678A' }, 'Bearer caller-key-0123456789');
    const del = await client.disconnect('3', 'quickbooks', 'Bearer caller-key-0123456789');
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assert.deepEqual(
      standIn.seen.map((s) => [s.method, s.url, s.authorization]),
      [
        ['GET', '/api/companies/3/connections', 'Bearer caller-key-0123456789'],
        ['PUT', '/api/companies/3/connections/devpos', 'Bearer caller-key-0123456789'],
        ['DELETE', '/api/companies/3/connections/quickbooks', 'Bearer caller-key-0123456789'],
      ],
    );
    assert.deepEqual(JSON.parse(standIn.seen[1].body), { username: 'u', password: 'p', tenant: 'K12345678A' });
  });

  it('path segments from the caller cannot leave the connection routes', async () => {
    standIn.seen.length = 0;
    await client.connections('../../oauth', 'Bearer caller-key-0123456789');
    assert.equal(standIn.seen[0].url, '/api/companies/..%2F..%2Foauth/connections');
  });

  it("passes the callback's query through and its 302 back with the Location, without following it", async () => {
    standIn.seen.length = 0;
    const ok = await client.quickBooksCallback('?state=good&code=AB1&realmId=42');
    assert.equal(ok.status, 302);
    assert.equal(ok.location, '/?company=3&quickbooks=connected');
    assert.deepEqual(
      standIn.seen.map((s) => [s.url, s.authorization]),
      [['/oauth/quickbooks/callback?state=good&code=AB1&realmId=42', undefined]],
      'one request: the redirect is not followed, and no key is sent',
    );
    const bad = await client.quickBooksCallback('state=forged');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { statusCode: 400, message: 'invalid state' });
  });

  it("forwards the documents routes: the list's query string as it came, the EIC as one path segment, the retry's 409 as sent", async () => {
    standIn.seen.length = 0;
    const list = await client.documents(
      '3',
      '?status=failed&type=sales&limit=2&cursor=abc',
      'Bearer caller-key-0123456789',
    );
    assert.equal(list.status, 200);
    await client.documents('3', '', 'Bearer caller-key-0123456789');
    await client.document('3', 'a/../../b?c', 'Bearer caller-key-0123456789');
    const retry = await client.retryDocument('3', 'e1c', 'Bearer caller-key-0123456789');
    assert.equal(retry.status, 409);
    assert.deepEqual(retry.body, { statusCode: 409, message: 'the sales job is running for company 3' });
    assert.deepEqual(
      standIn.seen.map((s) => [s.method, s.url, s.authorization]),
      [
        [
          'GET',
          '/api/companies/3/documents?status=failed&type=sales&limit=2&cursor=abc',
          'Bearer caller-key-0123456789',
        ],
        ['GET', '/api/companies/3/documents', 'Bearer caller-key-0123456789'],
        ['GET', '/api/companies/3/documents/a%2F..%2F..%2Fb%3Fc', 'Bearer caller-key-0123456789'],
        ['POST', '/api/companies/3/documents/e1c/retry', 'Bearer caller-key-0123456789'],
      ],
    );
  });

  it('a retry accounting-sync does not answer in time is a 504 that says the run may still be going', async () => {
    const impatient = new AccountingClient(loadConfig('gateway', { ACCOUNTING_SYNC_URL: standIn.url }));
    impatient.retryTimeoutMs = 300;
    const answer = await impatient.retryDocument('3', 'slow', 'Bearer caller-key-0123456789');
    assert.equal(answer.status, 504);
    assert.match(String((answer.body as { message: string }).message), /did not answer within 0\.3 s/);
    assert.match(answer.text, /GET \/api\/runs/);
  });

  it('an unreachable accounting-sync is a 502 that names it', async () => {
    const down = new AccountingClient(loadConfig('gateway', { ACCOUNTING_SYNC_URL: 'http://127.0.0.1:9' }));
    const answer = await down.authorize('1', 'Bearer caller-key-0123456789');
    assert.equal(answer.status, 502);
    assert.match(String((answer.body as { message: string }).message), /^accounting-sync is unreachable \(/);
    assert.match(answer.text, /ACCOUNTING_SYNC_URL/);
  });
});
