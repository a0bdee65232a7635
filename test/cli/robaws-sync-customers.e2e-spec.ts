import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { RobawsSimulator } from '@sync-hub/simulators';
import { cli } from '../support/cli';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe } from '../support/kafka';

const CLIENTS = 230;

/** A stat's value from the command's table (`deleted upstream   2`). */
function stat(stdout: string, name: string): number {
  const m = new RegExp(`^${name}\\s+(\\d+)$`, 'm').exec(stdout);
  assert.ok(m, `no ${name} in:\n${stdout}`);
  return Number(m[1]);
}

describe('robaws:sync-customers (MariaDB, Kafka, the Robaws simulator over HTTP)', () => {
  let db: TestDatabase;
  let robaws: RobawsSimulator;
  let env: Record<string, string>;
  const probe = new KafkaProbe();
  const count = async (where = '1 = 1'): Promise<number> =>
    Number((await db.dataSource.query(`SELECT COUNT(*) AS n FROM robaws_customers WHERE ${where}`))[0].n);

  before(async () => {
    db = await createTestDatabase('cli_robaws');
    robaws = new RobawsSimulator({ seed: 5, clients: CLIENTS });
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      ROBAWS_URL: await robaws.start(),
      ROBAWS_API_KEY: robaws.apiKey,
      ROBAWS_API_SECRET: robaws.apiSecret,
      ROBAWS_PAGE_SIZE: '100',
      HTTP_RETRIES: '0',
    };
    await probe.watch([Topic.RunCompleted, Topic.RunFailed]);
  });

  after(async () => {
    await probe.close();
    await robaws?.stop();
    await db?.drop();
  });

  it('--dry-run prints the first customers as they would be stored (role, E.164 phone, VAT) and writes nothing', async () => {
    const { code, stdout, stderr } = await cli(['robaws:sync-customers', '--dry-run'], env);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^The first 20 customer\(s\) as they would be stored:$/m);
    assert.match(stdout, /^robaws id\s+name\s+role\s+phone\s+tel\s+gsm\s+VAT\s+VAT valid$/m);
    const first = robaws.client(1001)!;
    const line = stdout.split('\n').find((l) => l.startsWith('1001 '));
    assert.ok(line?.includes(first.name), stdout);
    assert.match(stdout, /\+\d{8,}/, 'phones in E.164');
    assert.equal(stat(stdout, 'fetched'), CLIENTS);
    assert.equal(stat(stdout, 'created'), CLIENTS, 'would create');
    assert.match(stdout, /Dry run: nothing was written or sent/);
    assert.equal(await count(), 0);
    assert.equal(robaws.counters.patches, 0);
  });

  it('a pull prints a line per page off a terminal and the stats table; the first incremental reads everything', async () => {
    const { code, stdout, stderr } = await cli(['robaws:sync-customers'], env);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^page 1\/3: fetched 100$/m);
    assert.match(stdout, /^page 3\/3: fetched 230$/m);
    assert.match(stdout, /^Robaws customer sync: incremental pull \(run [0-9a-f-]{36}\)$/m);
    for (const [name, value] of [
      ['fetched', CLIENTS],
      ['created', CLIENTS],
      ['updated', 0],
      ['deleted upstream', 0],
      ['pushed', 0],
      ['conflicts', 0],
      ['failed', 0],
    ] as const)
      assert.equal(stat(stdout, name), value, name);
    assert.ok(stat(stdout, 'invalid phones') > 0 && stat(stdout, 'invalid VAT') > 0);
    assert.equal(await count(), CLIENTS);
    const runId = /\(run ([0-9a-f-]{36})\)/.exec(stdout)![1];
    const done = await probe.waitFor(Topic.RunCompleted, (m) => m.json?.payload?.runId === runId, 'its run event');
    assert.deepEqual([done.json.payload.trigger, done.json.payload.job], ['cli', 'robaws.customers.incremental']);
  });

  it('--client-id pulls that one; --full --limit reads that many; --full marks a client gone from Robaws', async () => {
    robaws.updateClient(1010, { website: 'https://changed.example' });
    const one = await cli(['robaws:sync-customers', '--client-id=1010'], env);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /incremental pull of client 1010/);
    assert.deepEqual([stat(one.stdout, 'fetched'), stat(one.stdout, 'updated')], [1, 1]);

    const limited = await cli(['robaws:sync-customers', '--full', '--limit=7'], env);
    assert.equal(limited.code, 0, limited.stderr);
    assert.deepEqual([stat(limited.stdout, 'fetched'), stat(limited.stdout, 'deleted upstream')], [7, 0]);

    robaws.removeClient(1020);
    const full = await cli(['robaws:sync-customers', '--full'], env);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /full pull/);
    assert.equal(stat(full.stdout, 'deleted upstream'), 1);
    assert.equal(await count('deleted_upstream = 1 AND robaws_id = 1020'), 1);
  });

  it('--push --dry-run prints the merge-patch it would send; --push sends it, then pulls', async () => {
    const [row] = await db.dataSource.query(
      'SELECT email, upstream_updated_at FROM robaws_customers WHERE robaws_id = 1005',
    );
    const edit = {
      fields: { email: 'pushed-from-cli@client1005.example' },
      base: { email: row.email },
      baseUpdatedAt: new Date(row.upstream_updated_at).toISOString(),
      editedAt: new Date().toISOString(),
    };
    await db.dataSource.query('UPDATE robaws_customers SET email = ?, local_dirty = ? WHERE robaws_id = 1005', [
      edit.fields.email,
      JSON.stringify(edit),
    ]);
    const dry = await cli(['robaws:sync-customers', '--push', '--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^Would push 1 local edit\(s\):$/m);
    assert.match(dry.stdout, /^1005\s+\{"email":"pushed-from-cli@client1005\.example"\}$/m);
    assert.equal(robaws.counters.patches, 0, 'a dry run sends nothing');

    const { code, stdout, stderr } = await cli(['robaws:sync-customers', '--push'], env);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Robaws customer sync: push, then incremental pull/m);
    assert.equal(stat(stdout, 'pushed'), 1);
    assert.equal(robaws.client(1005)!.email, 'pushed-from-cli@client1005.example');
    const [after] = await db.dataSource.query(
      'SELECT local_dirty, pushed_at FROM robaws_customers WHERE robaws_id = 1005',
    );
    assert.equal(after.local_dirty, null, 'clean again');
    assert.ok(after.pushed_at);
  });

  it('exit code 2 when Robaws refuses the credentials (an operator must fix them; no secret printed), without ROBAWS_URL, or on bad flags', async () => {
    const refused = await cli(['robaws:sync-customers'], { ...env, ROBAWS_API_SECRET: 'not-the-secret-42' });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stdout, /pull \(run .+\) FAILED \[config\/UPSTREAM_AUTH_REJECTED\]: .*ROBAWS_API_KEY/);
    assert.doesNotMatch(refused.stdout + refused.stderr, /not-the-secret-42/);

    const { ROBAWS_URL: _url, ROBAWS_API_KEY: _key, ROBAWS_API_SECRET: _secret, ...unconfigured } = env;
    const missing = await cli(['robaws:sync-customers'], unconfigured);
    assert.equal(missing.code, 2, missing.stdout + missing.stderr);
    assert.match(missing.stdout, /ROBAWS_URL is not set/);

    const bad = await cli(['robaws:sync-customers', '--limit=0'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit.*must be a positive integer/);
  });
});
