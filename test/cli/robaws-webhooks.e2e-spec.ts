import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { openWebhookSecret, SecretBox } from '@sync-hub/persistence';
import { RobawsSimulator } from '@sync-hub/simulators';
import { cli } from '../support/cli';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';

const SECRETS_KEY = randomBytes(32).toString('base64');
const HOOK = 'https://hub.example.com/api/webhooks/robaws/customers';

interface EndpointRow {
  endpoint_id: string;
  url: string;
  events: string;
  secret_sealed: string;
}

describe('robaws:webhooks:register, list and delete (MariaDB, the Robaws simulator over HTTP)', () => {
  let db: TestDatabase;
  const sim = new RobawsSimulator({ clients: 5, seed: 3 });
  let env: Record<string, string>;

  const stored = (): Promise<EndpointRow[]> =>
    db.dataSource.query<EndpointRow[]>('SELECT * FROM robaws_webhook_endpoints ORDER BY created_at');

  before(async () => {
    db = await createTestDatabase('cli_robaws_webhooks');
    const url = await sim.start();
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      SECRETS_KEY,
      ROBAWS_URL: url,
      ROBAWS_API_KEY: sim.apiKey,
      ROBAWS_API_SECRET: sim.apiSecret,
    };
  });

  after(async () => {
    await sim.stop();
    await db?.drop();
  });

  it('register creates client.created + client.updated in Robaws, stores the secret sealed, prints the id only', async () => {
    const out = await cli(['robaws:webhooks:register', `--url=${HOOK}`], env);
    assert.equal(out.code, 0, out.stderr);
    const [endpoint] = sim.webhookEndpoints();
    assert.deepEqual([endpoint.url, endpoint.events], [HOOK, ['client.created', 'client.updated']]);
    assert.match(out.stdout, new RegExp(`registered Robaws webhook endpoint ${endpoint.id}`));
    assert.ok(!out.stdout.includes(endpoint.secret) && !out.stderr.includes(endpoint.secret), 'never the secret');

    const [row] = await stored();
    assert.deepEqual([row.endpoint_id, row.url, row.events], [endpoint.id, HOOK, 'client.created,client.updated']);
    assert.ok(!row.secret_sealed.includes(endpoint.secret), 'not in the clear');
    const dump = JSON.stringify(await db.dataSource.query('SELECT * FROM robaws_webhook_endpoints'));
    assert.ok(!dump.includes(endpoint.secret) && !dump.includes(Buffer.from(endpoint.secret).toString('base64')));
    const box = new SecretBox(Buffer.from(SECRETS_KEY, 'base64'));
    assert.equal(
      openWebhookSecret(box, { endpointId: row.endpoint_id, secretSealed: row.secret_sealed }),
      endpoint.secret,
    );
    assert.throws(
      () => openWebhookSecret(box, { endpointId: 'another-endpoint', secretSealed: row.secret_sealed }),
      /SECRETS_KEY/,
      'bound to its endpoint',
    );
  });

  it("list shows Robaws's endpoints and which have a stored secret", async () => {
    const manual = sim.registerWebhook('https://elsewhere.example.com/hook', ['client.updated']);
    const out = await cli(['robaws:webhooks:list'], env);
    assert.equal(out.code, 0, out.stderr);
    const line = (id: string) => out.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
    const [registered] = await stored();
    assert.match(line(registered.endpoint_id), /client\.created,client\.updated\s.*\syes$/);
    assert.match(line(manual.id), /elsewhere\.example\.com.*\sno$/);
    for (const e of sim.webhookEndpoints()) assert.ok(!out.stdout.includes(e.secret));
  });

  it('delete removes the endpoint in Robaws and its stored row; an unknown id exits 2', async () => {
    const [registered] = await stored();
    const out = await cli(['robaws:webhooks:delete', `--id=${registered.endpoint_id}`], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /in Robaws, stored secret removed/);
    assert.equal((await stored()).length, 0);
    assert.ok(!sim.webhookEndpoints().some((e) => e.id === registered.endpoint_id));

    const again = await cli(['robaws:webhooks:delete', `--id=${registered.endpoint_id}`], env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no Robaws webhook endpoint/);
  });

  it('usage and configuration errors exit 2 and create nothing', async () => {
    const before = sim.webhookEndpoints().length;
    const { SECRETS_KEY: _key, ...withoutKey } = env;
    const { ROBAWS_URL: _url, ROBAWS_API_KEY: _k, ROBAWS_API_SECRET: _s, ...withoutRobaws } = env;
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['robaws:webhooks:register'], env, /required option '--url <url>'/],
      [['robaws:webhooks:register', '--url=not a url'], env, /--url must be an absolute URL/],
      [['robaws:webhooks:register', '--url=ftp://hub.example.com/x'], env, /http\(s\)/],
      [['robaws:webhooks:delete'], env, /required option '--id <id>'/],
      [['robaws:webhooks:delete', '--id=../../etc'], env, /--id must be/],
      [['robaws:webhooks:register', `--url=${HOOK}`], withoutKey, /SECRETS_KEY is required/],
      [['robaws:webhooks:list'], withoutRobaws, /ROBAWS_URL is not set/],
      [['robaws:webhooks:list'], { DATA_DIR: '/tmp/robaws-webhooks-cli-e2e' }, /embedded mode/],
    ];
    for (const [args, e, message] of cases) {
      const out = await cli(args, e);
      assert.equal(out.code, 2, `${args.join(' ')}: ${out.stderr}`);
      assert.match(out.stderr, message, args.join(' '));
    }
    assert.equal(sim.webhookEndpoints().length, before, 'nothing registered');
  });

  it('a failing Robaws exits 1', async () => {
    sim.setFaults({ errorRate: 1 });
    try {
      const out = await cli(['robaws:webhooks:list'], { ...env, HTTP_RETRIES: '0' });
      assert.equal(out.code, 1, out.stderr);
    } finally {
      sim.clearFaults();
    }
  });
});
