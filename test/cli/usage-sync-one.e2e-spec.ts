import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { SecretBox } from '@sync-hub/persistence';
import { EylandooSimulator, MarzbanSimulator } from '@sync-hub/simulators';
import { cli } from '../support/cli';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe } from '../support/kafka';
import { eventually } from '../support/wait';

const MB = 1024 * 1024;
const SECRETS_KEY = randomBytes(32);

interface ConfigRow {
  usage_bytes: string;
  usage_synced_at: Date | null;
  last_usage_error: string | null;
  last_usage_error_at: Date | null;
}

describe('reseller:usage:sync-one (MariaDB, Kafka, the Eylandoo and Marzban simulators over HTTP)', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let resellerId = 0;
  const probe = new KafkaProbe();
  const eylandoo = new EylandooSimulator({
    seed: 41,
    growBytesPerRead: 0,
    apiKey: `eyl-cli-key-${randomBytes(8).toString('hex')}`,
  });
  const marzban = new MarzbanSimulator({
    seed: 42,
    growBytesPerRead: 0,
    adminPassword: `mzb-cli-pass-${randomBytes(8).toString('hex')}`,
  });
  const WRONG_KEY = `eyl-wrong-key-${randomBytes(8).toString('hex')}`;
  const panels: Record<string, number> = {};
  /** The broker is shared and read from the beginning: this suite's events are those since it started. */
  const startedAt = Date.now();
  const eventsOf = (id: number) =>
    probe
      .messages(Topic.UsageConfigUpdated)
      .filter((m) => m.json.payload.configId === id && Date.parse(m.json.occurredAt) >= startedAt);
  const q = <T = any>(sql: string, params: unknown[] = []): Promise<T[]> => db.dataSource.query(sql, params);

  const addPanel = async (name: string, type: string, url: string, credentials: object): Promise<number> => {
    const { insertId } = (await db.dataSource.query(
      `INSERT INTO panels (name, type, url, max_concurrency, active, created_at, updated_at)
       VALUES (?, ?, ?, 8, 1, NOW(3), NOW(3))`,
      [name, type, url],
    )) as unknown as { insertId: number };
    const sealed = new SecretBox(SECRETS_KEY).sealJson(credentials, `panels:${insertId}`);
    await q('UPDATE panels SET credentials_sealed = ? WHERE id = ?', [sealed, insertId]);
    return (panels[name] = insertId);
  };
  const addConfig = async (
    panel: string,
    username: string,
    fields: { usage?: number; limit?: number | null; panelUserId?: string | null } = {},
  ): Promise<number> => {
    const { insertId } = (await db.dataSource.query(
      `INSERT INTO reseller_configs (reseller_id, panel_id, panel_user_id, external_username, status, usage_bytes, traffic_limit_bytes, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'active', ?, ?, NOW(3), NOW(3))`,
      [resellerId, panels[panel], fields.panelUserId ?? null, username, fields.usage ?? 0, fields.limit ?? null],
    )) as unknown as { insertId: number };
    return insertId;
  };
  const row = async (id: number): Promise<ConfigRow> =>
    (await q<ConfigRow>('SELECT * FROM reseller_configs WHERE id = ?', [id]))[0];

  /** The command, whose output never holds a panel secret (the stored ones, nor the refused key). */
  async function run(args: string[], withEnv: Record<string, string> = env) {
    const result = await cli(['reseller:usage:sync-one', ...args], withEnv);
    for (const secret of [eylandoo.apiKey, marzban.adminPassword, WRONG_KEY, SECRETS_KEY.toString('base64')])
      assert.equal(
        (result.stdout + result.stderr).includes(secret),
        false,
        `a secret is printed by ${args.join(' ')}:\n${result.stdout}${result.stderr}`,
      );
    return result;
  }
  const sync = (id: number | string) => run([`--config=${id}`]);

  before(async () => {
    db = await createTestDatabase('cli_usage');
    await eylandoo.start();
    await marzban.start();
    const { insertId } = (await db.dataSource.query(
      "INSERT INTO resellers (name, created_at, updated_at) VALUES ('Reseller CLI', NOW(3), NOW(3))",
    )) as unknown as { insertId: number };
    resellerId = insertId;
    await addPanel('Eylandoo Production', 'eylandoo', eylandoo.url, { apiKey: eylandoo.apiKey });
    await addPanel('Eylandoo Wrong Key', 'eylandoo', eylandoo.url, { apiKey: WRONG_KEY });
    await addPanel('Marzban Main', 'marzban', marzban.url, {
      username: marzban.adminUsername,
      password: marzban.adminPassword,
    });
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      SECRETS_KEY: SECRETS_KEY.toString('base64'),
      HTTP_RETRIES: '0',
      USAGE_PANEL_TIMEOUT: '5',
    };
    await probe.watch([Topic.UsageConfigUpdated]);
  });

  after(async () => {
    await probe.close();
    await eylandoo.stop();
    await marzban.stop();
    await db?.drop();
  });

  it("prints the seed's sections for an updated config, stores the usage and publishes usage.config.updated.v1; a re-run is unchanged (delta 0)", async () => {
    eylandoo.addUser('test_user_123', { shape: 'total_traffic_bytes', usedBytes: 1073741824 });
    const id = await addConfig('Eylandoo Production', 'test_user_123', {
      usage: 524288000,
      limit: 10737418240,
      panelUserId: 'test_user_123',
    });
    const { code, stdout, stderr } = await sync(id);
    assert.equal(code, 0, stdout + stderr);
    assert.equal(
      stdout,
      [
        `=== Syncing Usage for Config #${id} ===`,
        '',
        '📋 Config Information:',
        `  ID: ${id}`,
        `  Reseller ID: ${resellerId}`,
        '  Reseller Name: Reseller CLI',
        '  Status: active',
        '  Panel Type: eylandoo',
        `  Panel ID: ${panels['Eylandoo Production']}`,
        '  Panel User ID: test_user_123',
        '  External Username: test_user_123',
        '  Current Usage: 524288000 bytes (500.00 MB)',
        '  Traffic Limit: 10737418240 bytes (10240.00 MB)',
        '',
        '🔧 Panel Information:',
        '  Panel Name: Eylandoo Production',
        '  Panel Type: eylandoo',
        `  URL: ${new URL(eylandoo.url).origin}`,
        '',
        '📡 Fetching usage from panel...',
        '',
        '✅ Successfully fetched usage from panel',
        '📊 Usage: 1073741824 bytes (1024.00 MB)',
        '  Source Field: userInfo.total_traffic_bytes',
        '',
        '💾 Updated config usage_bytes in database',
        '  Previous: 524288000 bytes (500.00 MB)',
        '  Current:  1073741824 bytes (1024.00 MB)',
        '  Delta:    549453824 bytes (524.00 MB)',
        '',
        '✅ Sync completed successfully',
        '',
      ].join('\n'),
    );
    const stored = await row(id);
    assert.equal(Number(stored.usage_bytes), 1073741824);
    assert.ok(stored.usage_synced_at, 'usage_synced_at set');
    const event = await eventually(() => eventsOf(id)[0], "the diagnostic's usage.config.updated.v1", 20000);
    assert.equal(event.key, String(id));
    assert.deepEqual(
      [event.json.payload.previous, event.json.payload.current, event.json.payload.delta, event.json.payload.limit],
      [524288000, 1073741824, 549453824, 10737418240],
    );

    const syncedBefore = stored.usage_synced_at.getTime();
    const again = await sync(id);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^ {2}Current Usage: 1073741824 bytes \(1024\.00 MB\)$/m);
    assert.match(again.stdout, /^📊 Usage: 1073741824 bytes \(1024\.00 MB\)$/m);
    assert.match(again.stdout, /^ {2}Previous: 1073741824 bytes \(1024\.00 MB\)$/m);
    assert.match(again.stdout, /^ {2}Current: {2}1073741824 bytes \(1024\.00 MB\)$/m);
    assert.match(again.stdout, /^ {2}Delta: {4}0 bytes \(0\.00 MB\)$/m);
    assert.match(again.stdout, /^✅ Sync completed successfully$/m);
    assert.ok((await row(id)).usage_synced_at!.getTime() >= syncedBefore);

    // A later change's event shares the key's partition: once it is seen, an event of the unchanged run would be too.
    eylandoo.setUsage('test_user_123', 2 * 1073741824);
    const third = await sync(id);
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.match(third.stdout, /^ {2}Delta: {4}1073741824 bytes \(1024\.00 MB\)$/m);
    await eventually(
      () => eventsOf(id).find((m) => m.json.payload.current === 2 * 1073741824),
      'the third run’s event',
      20000,
    );
    assert.deepEqual(
      eventsOf(id).map((m) => m.json.payload.delta),
      [549453824, 1073741824],
      'an unchanged usage publishes no event',
    );
    assert.deepEqual(await q('SELECT id FROM outbox_messages'), [], 'nothing left waiting in the outbox');
  });

  it('shows the field each Eylandoo answer shape gave the usage, and a smaller reading as a negative delta', async () => {
    const shapes = [
      ['cli-updown', 'upload_download', 'userInfo.upload_bytes + download_bytes'],
      ['cli-dataused', 'data_used', 'data.data_used'],
      ['cli-none', 'none', 'none'],
    ] as const;
    for (const [username, shape, field] of shapes) {
      eylandoo.addUser(username, { shape, usedBytes: 3 * MB });
      const id = await addConfig('Eylandoo Production', username, { usage: 5 * MB });
      const { code, stdout, stderr } = await sync(id);
      assert.equal(code, 0, stdout + stderr);
      const expected = shape === 'none' ? 0 : 3 * MB;
      assert.match(stdout, new RegExp(`^📊 Usage: ${expected} bytes \\(${(expected / MB).toFixed(2)} MB\\)$`, 'm'));
      assert.match(stdout, new RegExp(`^ {2}Source Field: ${field.replace(/[.+]/g, '\\$&')}$`, 'm'), stdout);
      assert.match(stdout, new RegExp(`^ {2}Delta: {4}${expected - 5 * MB} bytes \\(-\\d+\\.00 MB\\)$`, 'm'), stdout);
      assert.match(stdout, /^ {2}Panel User ID: \(none\)$/m);
      assert.match(stdout, /^ {2}Traffic Limit: unlimited$/m);
      assert.equal(Number((await row(id)).usage_bytes), expected);
    }
  });

  it("a Marzban config: the panel's type and URL, used_traffic as the source", async () => {
    marzban.setUsage('cli-mzb', 2000);
    const id = await addConfig('Marzban Main', 'cli-mzb', { usage: 500 });
    const { code, stdout, stderr } = await sync(id);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^ {2}Panel Type: marzban$/m);
    assert.match(stdout, /^ {2}Panel Name: Marzban Main$/m);
    assert.ok(stdout.includes(`  URL: ${new URL(marzban.url).origin}\n`), stdout);
    assert.match(stdout, /^ {2}Source Field: used_traffic$/m);
    assert.match(stdout, /^ {2}Delta: {4}1500 bytes \(0\.00 MB\)$/m);
    assert.equal(Number((await row(id)).usage_bytes), 2000);
  });

  it('an unknown config: "Config not found", exit 1, no panel called', async () => {
    const calls = eylandoo.counters.requests + marzban.counters.requests;
    const { code, stdout, stderr } = await sync(999999);
    assert.equal(code, 1, stdout + stderr);
    assert.equal(
      stdout,
      "=== Syncing Usage for Config #999999 ===\n\n❌ Config not found\n  The specified config ID doesn't exist in database\n",
    );
    assert.equal(eylandoo.counters.requests + marzban.counters.requests, calls);
  });

  it('a user the panel does not know: the hard-failure message, exit 1, the usage kept and the error recorded', async () => {
    eylandoo.removeUser('cli-ghost');
    const id = await addConfig('Eylandoo Production', 'cli-ghost', { usage: 777 });
    const { code, stdout, stderr } = await sync(id);
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, /^📡 Fetching usage from panel\.\.\.$/m);
    assert.match(
      stdout,
      /^❌ Hard failure \(null\): HTTP error, network issue, invalid credentials, or user not found on panel$/m,
    );
    assert.match(stdout, /^ {2}Error: eylandoo panel Eylandoo Production: HTTP 404/m);
    assert.match(stdout, /^ {2}Usage kept: 777 bytes \(0\.00 MB\)/m);
    assert.match(stdout, /^ {2}Check logs: /m);
    assert.doesNotMatch(stdout, /Updated config usage_bytes|Sync completed successfully/);
    assert.match(stderr, /Eylandoo usage fetch failed for user cli-ghost \(hard failure\)/, 'the seed log line');
    const stored = await row(id);
    assert.equal(Number(stored.usage_bytes), 777, 'null, never 0: the usage is kept');
    assert.match(stored.last_usage_error!, /HTTP 404/);
    assert.ok(stored.last_usage_error_at);
  });

  it('a panel refusing its API key: a hard failure (exit 1) that prints neither the key nor any other secret', async () => {
    eylandoo.addUser('cli-refused', { shape: 'total_traffic_bytes', usedBytes: 10 });
    const id = await addConfig('Eylandoo Wrong Key', 'cli-refused', { usage: 55 });
    const { code, stdout, stderr } = await sync(id);
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, /^ {2}Error: eylandoo panel Eylandoo Wrong Key: HTTP 403 .*Invalid API key/m);
    assert.match(stdout, /^ {2}Usage kept: 55 bytes/m);
    assert.match((await row(id)).last_usage_error!, /HTTP 403/);
  });

  it('an empty username: skipped without a call, exit 1, nothing stored or recorded', async () => {
    const id = await addConfig('Eylandoo Production', '', { usage: 42 });
    const calls = eylandoo.counters.requests;
    const { code, stdout, stderr } = await sync(id);
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, /^ {2}External Username: $/m);
    assert.match(stdout, /^⚠️ {2}Usage fetch skipped: empty username \(no call made to the panel\)$/m);
    assert.match(stdout, /^ {2}Usage left as stored: 42 bytes \(0\.00 MB\)$/m);
    assert.doesNotMatch(stdout, /Hard failure|Updated config usage_bytes|Sync completed successfully/);
    assert.match(stderr, /Eylandoo usage fetch skipped: empty username/, 'the seed log line');
    assert.equal(eylandoo.counters.requests, calls, 'no call made');
    const stored = await row(id);
    assert.deepEqual([Number(stored.usage_bytes), stored.usage_synced_at, stored.last_usage_error], [42, null, null]);
  });

  it('bad flags are usage errors (exit 2) before anything connects: --config missing, not a number, 0', async () => {
    const missing = await run([]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '--config <id>' not specified/);
    for (const bad of ['abc', '0', '12x']) {
      const { code, stdout, stderr } = await sync(bad);
      assert.equal(code, 2, `--config=${bad}: ${stdout}${stderr}`);
      assert.match(stderr, /must be a positive integer/);
      assert.equal(stdout, '');
    }
  });

  it('without SECRETS_KEY, or with another one, in the distributed mode: exit 2 naming SECRETS_KEY, no panel called', async () => {
    const id = await addConfig('Eylandoo Production', 'cli-key-check');
    const calls = eylandoo.counters.requests;
    const withoutKey = Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'SECRETS_KEY'));
    const unset = await run([`--config=${id}`], withoutKey);
    assert.equal(unset.code, 2, unset.stdout + unset.stderr);
    assert.match(unset.stderr, /SECRETS_KEY is required in the distributed mode/);
    const other = await run([`--config=${id}`], { ...env, SECRETS_KEY: randomBytes(32).toString('base64') });
    assert.equal(other.code, 2, other.stdout + other.stderr);
    assert.match(other.stderr, /SECRETS_KEY/);
    assert.equal(eylandoo.counters.requests, calls);
    assert.equal(Number((await row(id)).usage_bytes), 0);
  });
});
