import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseEnvelope, RobawsCustomerChangedPayload, signRobawsPayload, Topic } from '@sync-hub/contracts';
import { RobawsDelivery, RobawsSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { cli } from '../support/cli';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe, SeenMessage } from '../support/kafka';
import { eventually, freePort } from '../support/wait';

const API_KEY = 'webhooks-e2e-api-key-0001';
const SECRETS_KEY = randomBytes(32).toString('base64');

interface CustomerRow {
  robaws_id: number;
  name: string;
  email: string | null;
  upstream_updated_at: Date | null;
}

describe('Robaws webhooks in the distributed mode (gateway and crm-sync processes, real Kafka and MariaDB)', () => {
  let db: TestDatabase;
  let sim: RobawsSimulator;
  let simUrl: string;
  let gateway: AppProcess;
  let crmSync: AppProcess;
  /** The endpoint an operator created in Robaws by hand, its secret given as ROBAWS_WEBHOOK_SECRET. */
  let envEndpoint: { id: string; secret: string };
  let hookUrl: string;
  const probe = new KafkaProbe();
  const latencies: number[] = [];

  const customer = async (id: number): Promise<CustomerRow | undefined> =>
    (await db.dataSource.query<CustomerRow[]>('SELECT * FROM robaws_customers WHERE robaws_id = ?', [id]))[0];
  const deliveryRows = async (id: string): Promise<number> => {
    const [row] = await db.dataSource.query<Array<{ n: number }>>(
      'SELECT COUNT(*) AS n FROM robaws_webhook_deliveries WHERE delivery_id = ?',
      [id],
    );
    return Number(row.n);
  };
  const eventsOf = (deliveryId: string): SeenMessage[] =>
    probe.seen.filter((m) => m.topic === Topic.RobawsWebhookReceived && m.json?.payload?.deliveryId === deliveryId);

  const post = async (body: string, signature: string | null): Promise<{ status: number; body: any }> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signature !== null) headers['robaws-signature'] = signature;
    const res = await fetch(hookUrl, { method: 'POST', headers, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  /** A delivery Robaws would send for this client record, with a new id. */
  const deliveryBody = (record: object, event = 'client.updated', id: string = randomUUID()) =>
    JSON.stringify({ id, event, data: record });

  /** The simulator's deliveries for a client since `from`, once each has succeeded. */
  const delivered = async (clientId: number, from: number): Promise<RobawsDelivery[]> => {
    await sim.deliveriesSettled();
    const mine = sim.deliveries.slice(from).filter((d) => d.clientId === clientId);
    assert.ok(mine.length > 0, `the simulator delivered something for client ${clientId}`);
    for (const d of mine) assert.ok(d.delivered, `delivery ${d.id} succeeded: ${JSON.stringify(d.attempts)}`);
    return mine;
  };

  /** Changes a client in Robaws and waits for its row to show the change; the time it took is recorded. */
  const changeAndWait = async (id: number, fields: Record<string, unknown>): Promise<CustomerRow> => {
    const started = Date.now();
    const changed = sim.updateClient(id, fields);
    const row = await eventually(
      async () => {
        const r = await customer(id);
        return r && r.name === changed.name && r.email === changed.email ? r : undefined;
      },
      `client ${id}'s change to be stored`,
      30000,
      25,
    );
    latencies.push(Date.now() - started);
    return row;
  };

  before(async () => {
    db = await createTestDatabase('crm_webhooks_e2e');
    sim = new RobawsSimulator({ clients: 40, seed: 11, webhookRetryDelaysMs: [200, 500] });
    simUrl = await sim.start();
    const gatewayPort = await freePort();
    hookUrl = `http://127.0.0.1:${gatewayPort}/api/webhooks/robaws/customers`;
    const registered = sim.registerWebhook(hookUrl);
    envEndpoint = { id: registered.id, secret: registered.secret };
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, SECRETS_KEY };
    await probe.watch([Topic.RobawsWebhookReceived, Topic.RobawsCustomerChanged]);
    crmSync = await startAppProcess(
      'crm-sync',
      {
        ...common,
        // Its own group from now on: other suites' webhook events and crm ticks on the shared broker are not its own.
        KAFKA_GROUP_ID: await freshGroup('crm-webhooks', [Topic.CrmRequested, Topic.RobawsWebhookReceived]),
        ROBAWS_URL: simUrl,
        ROBAWS_API_KEY: sim.apiKey,
        ROBAWS_API_SECRET: sim.apiSecret,
      },
      'crm-webhooks-e2e-crm-sync',
    );
    gateway = await startAppProcess(
      'gateway',
      {
        ...common,
        PORT: String(gatewayPort),
        GATEWAY_API_KEYS: API_KEY,
        ROBAWS_WEBHOOK_SECRET: envEndpoint.secret,
        // A low limit: webhook deliveries carry no API key and must never meet it.
        GATEWAY_RATE_LIMIT_PER_MINUTE: '3',
      },
      'crm-webhooks-e2e-gateway',
    );
  });

  after(async () => {
    await gateway?.stop();
    await crmSync?.stop();
    await probe.close();
    await sim?.stop();
    await db?.drop();
  });

  it('a real signed delivery (env secret) after a change in Robaws stores the row promptly; a new client is created', async (t) => {
    const from = sim.deliveries.length;
    const row = await changeAndWait(1005, { name: `Webhook Name ${randomUUID().slice(0, 8)}` });
    const source = sim.client(1005)!;
    assert.equal(row.upstream_updated_at?.toISOString(), new Date(source.updatedAt).toISOString());
    const [d] = await delivered(1005, from);
    assert.equal(d.endpointId, envEndpoint.id);
    assert.equal(d.attempts.at(-1)?.status, 202, 'accepted at once');
    const event = await probe.waitFor(
      Topic.RobawsWebhookReceived,
      (m) => m.json?.payload?.deliveryId === d.id,
      'its event on the topic',
    );
    assert.equal(event.key, '1005', 'keyed by the client id');
    assert.equal(event.json.payload.event, 'client.updated');
    assert.equal(event.json.payload.clientId, 1005);
    assert.deepEqual(event.json.payload.record, JSON.parse(d.body).data, 'the full record');
    assert.equal(await deliveryRows(d.id), 1);

    const started = Date.now();
    const created = sim.createClient({ name: `New Client ${randomUUID().slice(0, 8)}`, email: 'new@client.example' });
    const stored = await eventually(() => customer(created.id), `client ${created.id} to be created`, 30000, 25);
    latencies.push(Date.now() - started);
    assert.equal(stored.name, created.name);
    const [c] = await delivered(created.id, from);
    assert.equal(c.event, 'client.created');

    // Each stored change is on crm.robaws.customer.changed.v1 too, without a run id: no run wrote it.
    const changeOf = async (id: number, name: string) => {
      const m = await probe.waitFor(
        Topic.RobawsCustomerChanged,
        (e) => e.key === String(id) && e.json?.payload?.record?.name === name,
        `the change event of client ${id}`,
      );
      const value = parseEnvelope(m.json, RobawsCustomerChangedPayload);
      assert.equal(value.runId, undefined);
      assert.equal(value.payload.runId, null);
      return value.payload;
    };
    // The hub had neither client before their deliveries; a second change of 1005 is an update of its record.
    assert.equal((await changeOf(1005, row.name)).changeType, 'created');
    const createdChange = await changeOf(created.id, created.name);
    assert.equal(createdChange.changeType, 'created');
    assert.equal(createdChange.record.email, 'new@client.example');
    const renamed = await changeAndWait(1005, { name: `Webhook Rename ${randomUUID().slice(0, 8)}` });
    const updatedChange = await changeOf(1005, renamed.name);
    assert.equal(updatedChange.changeType, 'updated');
    assert.deepEqual(updatedChange.changedFields, ['name', 'upstream_updated_at']);
    for (let i = 0; i < 3; i++)
      await changeAndWait(1010 + i, { email: `latency-${i}-${randomUUID().slice(0, 6)}@x.example` });
    t.diagnostic(`delivery → stored row latency (ms): ${latencies.join(', ')}`);
  });

  it('a bad or missing signature is 401 and nothing is stored or published', async () => {
    const record = { ...sim.client(1020)!, name: 'Forged Name' };
    const id = randomUUID();
    const body = deliveryBody(record, 'client.updated', id);
    const forged = await post(body, signRobawsPayload('a-guessed-secret', body, nowSeconds()));
    assert.equal(forged.status, 401);
    assert.match(forged.body.message, /does not match/);
    const tampered = await post(
      body.replace('Forged Name', 'Forged Again'),
      signRobawsPayload(envEndpoint.secret, body, nowSeconds()),
    );
    assert.equal(tampered.status, 401, 'a signature over another body');
    assert.equal((await post(body, null)).status, 401, 'no header');
    assert.equal((await post(body, 'sha256=abc')).status, 401, 'a malformed header');
    // A later valid delivery for the same client (same key, same partition) is on the topic: the refused ones are not.
    const valid = randomUUID();
    const validBody = deliveryBody(sim.client(1020)!, 'client.updated', valid);
    assert.equal((await post(validBody, signRobawsPayload(envEndpoint.secret, validBody, nowSeconds()))).status, 202);
    await probe.waitFor(Topic.RobawsWebhookReceived, (m) => m.json?.payload?.deliveryId === valid, 'the valid event');
    assert.equal(eventsOf(id).length, 0, 'no event for the refused delivery');
    assert.equal(await deliveryRows(id), 0, 'its id is not stored');
    assert.notEqual((await customer(1020))?.name, 'Forged Name');
  });

  it('a timestamp more than 300 s away (either way) is 401, even correctly signed; 400 for a signed non-delivery', async () => {
    const id = randomUUID();
    const body = deliveryBody(sim.client(1021)!, 'client.updated', id);
    // 305, not 301: the signing second and the receiver's can differ by a second or more on a busy machine.
    for (const skew of [-305, 305, -86_400]) {
      const res = await post(body, signRobawsPayload(envEndpoint.secret, body, nowSeconds() + skew));
      assert.equal(res.status, 401, `t ${skew} s`);
      assert.match(res.body.message, /timestamp is \d+ s away/);
    }
    assert.equal(await deliveryRows(id), 0);
    for (const bad of ['{"not":"a delivery"}', 'not json', JSON.stringify({ id, event: 'client.updated', data: {} })]) {
      const res = await post(bad, signRobawsPayload(envEndpoint.secret, bad, nowSeconds()));
      assert.equal(res.status, 400, bad);
    }
    assert.equal(await deliveryRows(id), 0);
  });

  it('a replayed delivery (the captured request, and a re-signed retry) is 200 and does nothing: one event only', async () => {
    const from = sim.deliveries.length;
    await changeAndWait(1022, { name: `Replay ${randomUUID().slice(0, 8)}` });
    const [d] = await delivered(1022, from);
    await probe.waitFor(Topic.RobawsWebhookReceived, (m) => m.json?.payload?.deliveryId === d.id, 'the first event');
    const verbatim = await post(d.body, d.attempts.at(-1)!.signature);
    assert.deepEqual([verbatim.status, verbatim.body], [200, { status: 'duplicate', delivery_id: d.id }]);
    const resigned = await post(d.body, signRobawsPayload(envEndpoint.secret, d.body, nowSeconds()));
    assert.deepEqual([resigned.status, resigned.body.status], [200, 'duplicate']);
    // A later change of the same client goes through the same partition: once it is seen, a duplicate would be too.
    const from2 = sim.deliveries.length;
    await changeAndWait(1022, { name: `After Replay ${randomUUID().slice(0, 8)}` });
    const [later] = await delivered(1022, from2);
    await probe.waitFor(
      Topic.RobawsWebhookReceived,
      (m) => m.json?.payload?.deliveryId === later.id,
      'the later event',
    );
    assert.equal(eventsOf(d.id).length, 1, 'the replayed delivery published once');
    assert.equal(await deliveryRows(d.id), 1);
  });

  it('an older version arriving late (a new delivery of an earlier record) does not overwrite the newer row', async () => {
    const from = sim.deliveries.length;
    await changeAndWait(1023, { name: `Older ${randomUUID().slice(0, 8)}` });
    const [older] = await delivered(1023, from);
    const newer = await changeAndWait(1023, { name: `Newer ${randomUUID().slice(0, 8)}` });
    const olderRecord = JSON.parse(older.body).data;
    assert.ok(new Date(olderRecord.updatedAt) < newer.upstream_updated_at!, 'the record is older than the row');
    const lateId = randomUUID();
    const late = deliveryBody(olderRecord, 'client.updated', lateId);
    assert.equal((await post(late, signRobawsPayload(envEndpoint.secret, late, nowSeconds()))).status, 202);
    await probe.waitFor(Topic.RobawsWebhookReceived, (m) => m.json?.payload?.deliveryId === lateId, 'the late event');
    // crm-sync says what it did with it; then the row must still be the newer one.
    await eventually(
      () =>
        fs
          .readFileSync(crmSync.logFile, 'utf8')
          .includes(`Robaws delivery ${lateId} (client.updated, client 1023): older`)
          ? true
          : undefined,
      'crm-sync to apply the late delivery',
      30000,
      50,
    );
    const row = await customer(1023);
    assert.equal(row?.name, newer.name);
    assert.equal(row?.upstream_updated_at?.toISOString(), newer.upstream_updated_at?.toISOString());
  });

  it('webhooks are not rate limited by the per-key limiter (no key, the limit is 3 a minute here)', async () => {
    for (let i = 0; i < 6; i++) {
      const body = deliveryBody(sim.client(1024)!, 'client.updated');
      const res = await post(body, signRobawsPayload('wrong-secret-000', body, nowSeconds()));
      assert.equal(res.status, 401, `attempt ${i + 1}`);
    }
  });

  it('a secret stored by robaws:webhooks:register is used too, while the env secret keeps working', async () => {
    const env = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      SECRETS_KEY,
      ROBAWS_URL: simUrl,
      ROBAWS_API_KEY: sim.apiKey,
      ROBAWS_API_SECRET: sim.apiSecret,
    };
    // Only the registered endpoint from now on: the hand-made one is deleted in Robaws (no stored secret).
    const removed = await cli(['robaws:webhooks:delete', `--id=${envEndpoint.id}`], env);
    assert.equal(removed.code, 0, removed.stderr);
    const out = await cli(['robaws:webhooks:register', `--url=${hookUrl}`], env);
    assert.equal(out.code, 0, out.stderr);
    const endpoints = sim.webhookEndpoints();
    assert.equal(endpoints.length, 1);
    const stored = endpoints[0];
    assert.ok(out.stdout.includes(stored.id) && !out.stdout.includes(stored.secret));
    assert.notEqual(stored.secret, envEndpoint.secret);

    const from = sim.deliveries.length;
    await changeAndWait(1025, { name: `Stored Secret ${randomUUID().slice(0, 8)}` });
    const [d] = await delivered(1025, from);
    assert.equal(d.endpointId, stored.id, 'signed with the stored secret');
    assert.equal(d.attempts.length, 1, 'accepted at the first attempt');
    const envSigned = deliveryBody(sim.client(1026)!);
    assert.equal((await post(envSigned, signRobawsPayload(envEndpoint.secret, envSigned, nowSeconds()))).status, 202);
  });

  it('no secret reaches any log: neither the env secret, the stored one, nor SECRETS_KEY', async () => {
    const storedSecret = sim.webhookEndpoints()[0].secret;
    await gateway.stop();
    await crmSync.stop();
    const logs = fs
      .readdirSync(path.dirname(gateway.logFile))
      .filter((f) => f.startsWith('crm-webhooks-e2e'))
      .map((f) => fs.readFileSync(path.join(path.dirname(gateway.logFile), f), 'utf8'));
    assert.equal(logs.length, 2);
    assert.ok(logs.join('').includes('Robaws delivery'), 'the logs are the ones written here');
    for (const log of logs)
      for (const secret of [envEndpoint.secret, storedSecret, SECRETS_KEY])
        assert.ok(!log.includes(secret), 'a secret in a log');
    assert.ok(!logs.join('').includes('Forged Name'), 'nothing of a body either');
  });
});
