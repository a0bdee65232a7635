import assert from 'node:assert/strict';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { UsageClient } from './usage.client';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

/** An HTTP server standing in for usage-sync at the process edge: it records requests and answers as told. */
async function usageSyncStandIn(): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
      if (req.url === '/api/usage/configs/7/sync') {
        // Answers after the client stopped waiting: the sync behind it is still going.
        setTimeout(() => res.writeHead(200).end('{}'), 1500);
      } else if (req.method === 'DELETE' && req.url === '/api/usage/panels/3') {
        res.writeHead(409, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ statusCode: 409, message: 'panel 3 (eu-1) still has 2 reseller configs' }));
      } else if (req.method === 'DELETE') {
        res.writeHead(204).end();
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

describe('UsageClient (the gateway to usage-sync, over HTTP)', () => {
  let standIn: Awaited<ReturnType<typeof usageSyncStandIn>>;
  let client: UsageClient;
  const key = 'Bearer caller-key-0123456789';
  before(async () => {
    standIn = await usageSyncStandIn();
    client = new UsageClient(loadConfig('gateway', { USAGE_SYNC_URL: standIn.url }));
  });
  after(() => standIn.close());

  it("forwards every route with the caller's key, the query string as it came, the id as one path segment and the body", async () => {
    const list = await client.list('configs', '?reseller_id=2&panel_id=3&failing=true', key);
    assert.deepEqual([list.status, list.body], [200, { data: [], next_cursor: null }]);
    await client.list('resellers', '', key);
    await client.create('resellers', { name: 'Reseller A' }, key);
    await client.list('panels', 'type=marzban', key);
    await client.get('panels', '../../health', key);
    await client.create('panels', { name: 'eu-1', type: 'eylandoo', url: 'https://p', api_key: 'k' }, key);
    await client.update('panels', '4', { active: false }, key);
    const gone = await client.remove('panels', '4', key);
    assert.deepEqual([gone.status, gone.text, gone.body], [204, '', undefined]);
    const busy = await client.remove('panels', '3', key);
    assert.deepEqual(
      [busy.status, (busy.body as { message: string }).message],
      [409, 'panel 3 (eu-1) still has 2 reseller configs'],
    );
    await client.get('configs', '5', key);
    await client.create('configs', { reseller_id: 1, panel_id: 3, external_username: 'u' }, key);
    await client.update('configs', '5', { status: 'disabled' }, key);
    await client.syncConfig('5', key);
    assert.deepEqual(
      standIn.seen.map((s) => [s.method, s.url, s.authorization]),
      [
        ['GET', '/api/usage/configs?reseller_id=2&panel_id=3&failing=true', key],
        ['GET', '/api/usage/resellers', key],
        ['POST', '/api/usage/resellers', key],
        ['GET', '/api/usage/panels?type=marzban', key],
        ['GET', '/api/usage/panels/..%2F..%2Fhealth', key],
        ['POST', '/api/usage/panels', key],
        ['PATCH', '/api/usage/panels/4', key],
        ['DELETE', '/api/usage/panels/4', key],
        ['DELETE', '/api/usage/panels/3', key],
        ['GET', '/api/usage/configs/5', key],
        ['POST', '/api/usage/configs', key],
        ['PATCH', '/api/usage/configs/5', key],
        ['POST', '/api/usage/configs/5/sync', key],
      ],
    );
    assert.deepEqual(JSON.parse(standIn.seen[2].body), { name: 'Reseller A' });
    assert.deepEqual(JSON.parse(standIn.seen[5].body), {
      name: 'eu-1',
      type: 'eylandoo',
      url: 'https://p',
      api_key: 'k',
    });
    assert.deepEqual(JSON.parse(standIn.seen[6].body), { active: false });
    assert.deepEqual(JSON.parse(standIn.seen[11].body), { status: 'disabled' });
    assert.equal(standIn.seen[7].body, '', 'a DELETE carries no body');
  });

  it("a config's sync waits longer than the other routes; one usage-sync does not answer in time is a 504", async () => {
    const impatient = new UsageClient(loadConfig('gateway', { USAGE_SYNC_URL: standIn.url }));
    assert.ok(impatient.syncTimeoutMs > impatient.timeoutMs);
    impatient.syncTimeoutMs = 300;
    const answer = await impatient.syncConfig('7', key);
    assert.equal(answer.status, 504);
    assert.match(String((answer.body as { message: string }).message), /^usage-sync did not answer within 0\.3 s/);
  });

  it('an unreachable usage-sync is a 502 that names it and USAGE_SYNC_URL', async () => {
    const down = new UsageClient(loadConfig('gateway', { USAGE_SYNC_URL: 'http://127.0.0.1:9' }));
    const answer = await down.list('panels', '', key);
    assert.equal(answer.status, 502);
    assert.match(String((answer.body as { message: string }).message), /^usage-sync is unreachable \(/);
    assert.match(answer.text, /USAGE_SYNC_URL/);
  });

  it('USAGE_SYNC_URL defaults to usage-sync on this machine (port 3005), and to this process in the embedded mode', () => {
    assert.equal(
      loadConfig('gateway', { KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'mysql://u@h/db' }).gateway.usageSyncUrl,
      'http://localhost:3005',
    );
    assert.equal(loadConfig('embedded', { PORT: '4000' }).gateway.usageSyncUrl, 'http://127.0.0.1:4000');
  });
});
