import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { SplynxSimulator } from '@sync-hub/simulators';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe } from '../support/kafka';
import { cli } from '../support/cli';

describe('npm run cli -- splynx:sync-users (MariaDB, simulator over HTTP, run events on Kafka)', () => {
  let db: TestDatabase;
  const simulator = new SplynxSimulator({ customers: 420, seed: 11 });
  const probe = new KafkaProbe();
  let env: Record<string, string>;
  const count = async () => Number((await db.dataSource.query('SELECT COUNT(*) AS n FROM splynx_customers'))[0].n);

  before(async () => {
    db = await createTestDatabase('cli');
    const url = await simulator.start();
    env = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      SPLYNX_URL: url,
      SPLYNX_API_KEY: simulator.apiKey,
      SPLYNX_API_SECRET: simulator.apiSecret,
      SPLYNX_PAGE_SIZE: '100',
      HTTP_RETRIES: '1',
      HTTP_RETRY_BASE_DELAY_MS: '5',
    };
    await probe.watch([Topic.RunCompleted]);
  });
  after(async () => {
    await probe.close();
    await simulator.stop();
    await db.drop();
  });

  it('--dry-run prints what would change, writes nothing and exits 0', async () => {
    const { code, stdout } = await cli(['splynx:sync-users', '--dry-run'], env);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /Dry run \(nothing written\)/);
    assert.match(stdout, /created\s+420/);
    assert.equal(await count(), 0);
  });

  it('--limit=N syncs N customers and exits 0', async () => {
    const { code, stdout } = await cli(['splynx:sync-users', '--limit=150'], env);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /fetched\s+150/);
    assert.equal(await count(), 150);
  });

  it('a full run prints the stats table, exits 0 and publishes a completed run with trigger cli', async () => {
    const { code, stdout } = await cli(['splynx:sync-users'], env);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /fetched\s+420/);
    assert.match(stdout, /created\s+270/);
    assert.match(stdout, /unchanged\s+150/);
    assert.equal(await count(), 420);
    await probe.waitFor(
      Topic.RunCompleted,
      (m) => m.json?.payload?.trigger === 'cli' && m.json.payload.stats.fetched === 420,
      'the cli run on Kafka',
    );
  });

  it('without --full it reads only the customers changed since the watermark; --full also deactivates', async () => {
    const { changed, removed } = simulator.mutate({ change: 4, remove: 2 });
    const incremental = await cli(['splynx:sync-users'], env);
    assert.equal(incremental.code, 0, incremental.stdout);
    assert.match(incremental.stdout, /updated\s+4/);
    assert.match(incremental.stdout, /deactivated\s+0/);
    const fetched = Number(/fetched\s+(\d+)/.exec(incremental.stdout)?.[1]);
    assert.ok(fetched >= 4 && fetched < 20, `fetched ${fetched}: the changes, not the 418 customers`);
    assert.equal(changed.length, 4);

    const full = await cli(['splynx:sync-users', '--full'], env);
    assert.equal(full.code, 0, full.stdout);
    assert.match(full.stdout, /fetched\s+418/);
    assert.match(full.stdout, /deactivated\s+2/);
    const inactive = await db.dataSource.query('SELECT splynx_id FROM splynx_customers WHERE active = 0');
    assert.deepEqual(inactive.map((r: { splynx_id: number }) => r.splynx_id).sort(), [...removed].sort());
    await probe.waitFor(
      Topic.RunCompleted,
      (m) => m.json?.payload?.job === 'customers.full' && m.json.payload.trigger === 'cli',
      'the --full run on Kafka as customers.full',
    );
  });

  it("sync:splynx-users, seed 000's command name, runs the same sync", async () => {
    const { code, stdout } = await cli(['sync:splynx-users', '--full', '--limit=10'], env);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /Splynx customer sync/);
    assert.match(stdout, /fetched\s+10/);
    assert.match(stdout, /unchanged\s+10/, 'the same customers the earlier runs wrote');
    const help = await cli(['--help'], {});
    assert.match(help.stdout, /splynx:sync-users\|sync:splynx-users/);
  });

  it('jobs lists the job registry: what runs, its lease, time limit, retries and params', async () => {
    const { code, stdout } = await cli(['jobs'], {});
    assert.equal(code, 0, stdout);
    const lines = stdout.trim().split('\n');
    assert.match(lines[0], /^job\s+lease\s+time limit\s+retries\s+params\s+what it does$/);
    assert.match(stdout, /splynx\/customers\s+1 min\s+1 h\s+2\s+limit, dryRun\s+Splynx customers/);
    for (const domain of ['splynx', 'accounting', 'crm', 'usage'])
      assert.match(stdout, new RegExp(`${domain}/ping\\s`));
    assert.match(stdout, /accounting\/sales\s+2 min\s+2 h\s+2\s+dateRangeDays, from, to, dryRun, eics\s/);
    assert.match(stdout, /crm\/robaws\.customers\.push\s+2 min\s+1 h\s+2\s+dryRun, limit, clientId\s/);
    assert.match(stdout, /crm\/cp\.export\s+2 min\s+30 min\s+1\s+loops\s/);
    assert.match(
      stdout,
      /usage\/reseller\.usage\s+5 min\s+10 min\s+1\s+timeLimitMs\s/,
      'seed 004: 300 s lease, 600 s, 2 tries',
    );
    assert.match(stdout, /splynx\/customers\.full\s+1 min\s+4 h\s+2\s+limit, dryRun\s+every Splynx customer/);
  });

  it('a failed sync exits 1 and says what failed', async () => {
    simulator.setFaults({ errorRate: 1 });
    try {
      const { code, stdout } = await cli(['splynx:sync-users'], env);
      assert.equal(code, 1);
      assert.match(stdout, /FAILED \[source\/UPSTREAM_UNAVAILABLE, retriable\]/);
    } finally {
      simulator.clearFaults();
    }
  });

  it('a usage error exits 2', async () => {
    assert.equal((await cli(['splynx:sync-users', '--limit=abc'], env)).code, 2);
    assert.equal((await cli(['no-such-command'], env)).code, 2);
    const badEnv = await cli(['splynx:sync-users'], { ...env, SPLYNX_PAGE_SIZE: 'lots' });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /SPLYNX_PAGE_SIZE/);
  });

  it('schedule:list prints every schedule with its next run', async () => {
    const { code, stdout } = await cli(['schedule:list'], { DATABASE_URL: db.url });
    assert.equal(code, 0, stdout);
    const lines = stdout.trim().split('\n');
    assert.match(
      lines[0],
      /^id\s+company\s+domain\s+job\s+frequency\s+timezone\s+enabled\s+next run \(UTC\)\s+next run$/,
    );
    assert.equal(lines.length, 2 + 10, 'header, rule and the ten seeded schedules');
    assert.match(stdout, /splynx\s+customers\.full\s+daily 02:30/);
    assert.match(stdout, /crm\s+cp\.reconcile\s+weekly Sun 05:00/);
    assert.match(stdout, /crm\s+robaws\.customers\.full\s+weekly Sun 04:00/);
    assert.match(stdout, /usage\s+reseller\.usage\s+every 5 min/);
    assert.match(
      stdout,
      /splynx\s+customers\s+hourly at :00\s+UTC\s+yes\s+\d{4}-\d\d-\d\dT\d\d:00:00\.000Z\s+(Today|Tomorrow) at/,
    );
  });

  it('settings:set changes a setting and settings:get shows the value in effect', async () => {
    const set = await cli(['settings:set', 'reseller.usage_sync_interval_minutes', '10'], { DATABASE_URL: db.url });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'reseller.usage_sync_interval_minutes = 10 (effective: 5)\n');
    const get = await cli(['settings:get', 'reseller.usage_sync_interval_minutes'], { DATABASE_URL: db.url });
    assert.equal(get.stdout, 'reseller.usage_sync_interval_minutes = 10 (effective: 5)\n');
    const unknown = await cli(['settings:get', 'no.such.setting'], { DATABASE_URL: db.url });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown setting no\.such\.setting/);
    assert.equal(
      (await cli(['settings:set', 'reseller.usage_sync_interval_minutes'], { DATABASE_URL: db.url })).code,
      2,
      'missing value',
    );
  });

  it('migrate on an up-to-date database says so and exits 0', async () => {
    const { code, stdout } = await cli(['migrate'], { DATABASE_URL: db.url });
    assert.equal(code, 0);
    assert.match(stdout, /schema is up to date/);
  });
});
