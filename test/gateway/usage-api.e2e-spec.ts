import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { provisionTopics } from '@sync-hub/messaging';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { CONSUMED_TOPICS, freshGroup, groupStartingNow } from '../support/kafka';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-usage-api-key-0123456789';
const USAGE = '/api/usage';
/** Every credential the suite sends: none may come back in an answer or show in either process's log. */
const SECRETS = {
  marzbanPassword: `marzban-pw-${randomBytes(6).toString('hex')}`,
  eylandooKey: `eyl-key-${randomBytes(6).toString('hex')}`,
  xuiToken: `xui-token-${randomBytes(6).toString('hex')}`,
  xuiPassword: `xui-pw-${randomBytes(6).toString('hex')}`,
  rotatedPassword: `rotated-pw-${randomBytes(6).toString('hex')}`,
  refusedPassword: `refused-pw-${randomBytes(6).toString('hex')}`,
};

interface PanelRow {
  id: number;
  name: string;
  type: string;
  url: string;
  credentials_sealed: string | null;
  settings: string | null;
  active: number;
  max_concurrency: number;
  updated_at: Date;
}

/**
 * The usage management API (issue 13) through the gateway, forwarded to usage-sync: both as processes on Kafka and
 * MariaDB. Resellers, panels (credentials write-only) and reseller configs; validation, unknown ids, a panel delete
 * while configs use it, credentials never answered nor logged, and the gateway's 502 when usage-sync is down.
 */
describe('the usage management API through the gateway (usage-sync, Kafka, MariaDB)', () => {
  let db: TestDatabase;
  let gateway: AppProcess;
  let usage: AppProcess;
  const answers: string[] = [];

  const call = async (method: string, path: string, body?: unknown, key: string | null = API_KEY, base?: string) => {
    const res = await fetch(`${base ?? gateway.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    answers.push(text);
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, text };
  };
  const expect = async (status: number, method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    return res.body;
  };
  const panelRows = (): Promise<PanelRow[]> => db.dataSource.query('SELECT * FROM panels ORDER BY id');
  const configCount = async () =>
    Number((await db.dataSource.query('SELECT COUNT(*) AS n FROM reseller_configs'))[0].n);

  let resellerA: number;
  let resellerB: number;
  let marzban: any;
  let eylandoo: any;
  let xui: any;

  before(async () => {
    db = await createTestDatabase('usage_api');
    // On a fresh broker nothing has created the topics yet; a group starting now needs them.
    await provisionTopics({
      brokers: TEST_KAFKA_BROKERS.split(','),
      clientId: 'e2e-usage-api',
      groupId: 'unused',
      topicPartitions: 3,
      replicationFactor: 1,
    });
    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      SECRETS_KEY: randomBytes(32).toString('base64'),
    };
    usage = await startAppProcess(
      'usage-sync',
      {
        ...common,
        KAFKA_GROUP_ID: await eventually(
          () => groupStartingNow(`usage-api-${randomBytes(4).toString('hex')}`, [Topic.UsageRequested]),
          'the new topic to have a leader',
          30000,
          500,
        ),
      },
      'usage-api-usage-sync',
    );
    gateway = await startAppProcess(
      'gateway',
      {
        ...common,
        KAFKA_GROUP_ID: await freshGroup('gateway-usage-api', CONSUMED_TOPICS.gateway),
        USAGE_SYNC_URL: usage.url,
      },
      'usage-api-gateway',
    );
  });

  after(async () => {
    await Promise.all([gateway?.stop(), usage?.stop()]);
    await db?.drop();
  });

  it('the routes need the key, at the gateway and at usage-sync', async () => {
    const routes: Array<[string, string]> = [
      ['GET', `${USAGE}/resellers`],
      ['POST', `${USAGE}/resellers`],
      ['GET', `${USAGE}/panels`],
      ['POST', `${USAGE}/panels`],
      ['GET', `${USAGE}/panels/1`],
      ['PATCH', `${USAGE}/panels/1`],
      ['DELETE', `${USAGE}/panels/1`],
      ['GET', `${USAGE}/configs`],
      ['POST', `${USAGE}/configs`],
      ['GET', `${USAGE}/configs/1`],
      ['PATCH', `${USAGE}/configs/1`],
      ['POST', `${USAGE}/configs/1/sync`],
    ];
    for (const [method, path] of routes)
      assert.equal((await call(method, path, undefined, null)).status, 401, `gateway ${method} ${path}`);
    for (const [method, path] of routes.filter(([, p]) => !p.endsWith('/sync')))
      assert.equal((await call(method, path, undefined, null, usage.url)).status, 401, `usage-sync ${method} ${path}`);
  });

  it('OpenAPI at the gateway documents the routes, their queries, bodies and answers', async () => {
    const doc = (await call('GET', '/docs-json', undefined, null)).body;
    assert.deepEqual(doc.paths['/api/usage/panels'].get.tags, ['usage']);
    assert.deepEqual(
      doc.paths['/api/usage/configs'].get.parameters
        .filter((p: any) => p.in === 'query')
        .map((p: any) => p.name)
        .sort(),
      ['cursor', 'failing', 'limit', 'panel_id', 'reseller_id', 'status'],
    );
    assert.deepEqual(Object.keys(doc.paths['/api/usage/panels/{id}'].delete.responses).sort(), ['204', '404', '409']);
    assert.deepEqual(Object.keys(doc.paths['/api/usage/configs/{id}'].patch.responses).sort(), [
      '200',
      '400',
      '404',
      '409',
    ]);
    assert.match(doc.paths['/api/usage/configs/{id}/sync'].post.responses['200'].description, /delta_bytes/);
    assert.ok(doc.paths['/api/usage/resellers'].post);
    const panelBody = doc.components.schemas.CreatePanelBody;
    assert.deepEqual(panelBody.properties.type.enum, ['eylandoo', 'marzban', 'marzneshin', '3x-ui']);
    assert.equal(panelBody.properties.password.writeOnly, true);
    assert.ok(doc.components.schemas.UpdateConfigBody.properties.traffic_limit_bytes);
  });

  it('resellers: created, a duplicate name a 409, an empty one a 400, listed with their config counts', async () => {
    resellerA = (await expect(201, 'POST', `${USAGE}/resellers`, { name: '  Reseller A ' })).id;
    const b = await expect(201, 'POST', `${USAGE}/resellers`, { name: 'Reseller B' });
    resellerB = b.id;
    assert.deepEqual(Object.keys(b).sort(), ['config_count', 'created_at', 'id', 'name', 'updated_at']);
    assert.equal(b.config_count, 0);
    const dup = await call('POST', `${USAGE}/resellers`, { name: 'Reseller A' });
    assert.equal(dup.status, 409, dup.text);
    assert.match(dup.body.message, /a reseller named "Reseller A" exists already/);
    const bad = await call('POST', `${USAGE}/resellers`, { name: ' ', colour: 'red' });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body.fields).sort(), ['colour', 'name']);
    const list = await expect(200, 'GET', `${USAGE}/resellers`);
    assert.deepEqual(
      list.data.map((r: any) => r.name),
      ['Reseller A', 'Reseller B'],
    );
    assert.equal(list.next_cursor, null);
  });

  it('panels of each type: created with their credentials sealed, answered with only the names of those set', async () => {
    marzban = await expect(201, 'POST', `${USAGE}/panels`, {
      name: 'eu-marzban',
      type: 'marzban',
      url: 'https://marzban.example:8443',
      username: 'admin',
      password: SECRETS.marzbanPassword,
      max_concurrency: 4,
      requests_per_second: 20,
    });
    eylandoo = await expect(201, 'POST', `${USAGE}/panels`, {
      name: 'ir-eylandoo',
      type: 'eylandoo',
      url: 'http://10.1.2.3:8080',
      api_key: SECRETS.eylandooKey,
      settings: { paths: { user: '/api/v2/users/{username}' } },
    });
    xui = await expect(201, 'POST', `${USAGE}/panels`, {
      name: 'de-3xui',
      type: '3x-ui',
      url: 'https://xui.example/panel-base/',
      api_token: SECRETS.xuiToken,
      settings: { generation: 'v3.1', cookie_name: 'session' },
      active: false,
    });
    await expect(201, 'POST', `${USAGE}/panels`, {
      name: 'nl-marzneshin',
      type: 'marzneshin',
      url: 'https://mz.example',
      username: 'sudo',
      password: SECRETS.xuiPassword,
    });
    assert.deepEqual(Object.keys(marzban).sort(), [
      'active',
      'active_config_count',
      'circuit_state',
      'config_count',
      'created_at',
      'credentials_set',
      'error_rate',
      'failing_config_count',
      'id',
      'last_error',
      'last_error_at',
      'last_success_at',
      'max_concurrency',
      'name',
      'requests_per_second',
      'settings',
      'type',
      'updated_at',
      'url',
    ]);
    assert.deepEqual(
      [marzban.credentials_set, marzban.max_concurrency, marzban.requests_per_second, marzban.active],
      [['username', 'password'], 4, 20, true],
    );
    assert.deepEqual(
      [eylandoo.credentials_set, eylandoo.settings],
      [['api_key'], { paths: { user: '/api/v2/users/{username}' } }],
    );
    assert.deepEqual(
      [xui.credentials_set, xui.settings, xui.active],
      [['api_token'], { generation: 'v3.1', cookie_name: 'session' }, false],
    );
    const rows = await panelRows();
    assert.equal(rows.length, 4);
    for (const row of rows) {
      assert.ok(row.credentials_sealed, `${row.name} has sealed credentials`);
      for (const secret of Object.values(SECRETS)) assert.ok(!row.credentials_sealed.includes(secret), row.name);
    }
    // The adapters read the stored settings in their own names.
    assert.deepEqual(JSON.parse(rows.find((r) => r.id === xui.id)!.settings!), {
      generation: 'v3.1',
      cookieName: 'session',
    });
  });

  it('panels: bad input is a 400 naming each field, and nothing is written', async () => {
    const before = await panelRows();
    const bad = await call('POST', `${USAGE}/panels`, {
      name: 'x',
      type: 'wireguard',
      url: 'ftp://panel.example',
      password: SECRETS.refusedPassword,
      max_concurrency: 0,
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(Object.keys(bad.body.fields).sort(), ['max_concurrency', 'type', 'url']);
    const missing = await call('POST', `${USAGE}/panels`, {
      name: 'x',
      type: 'marzban',
      url: 'https://m.example',
      password: SECRETS.refusedPassword,
      api_key: SECRETS.refusedPassword,
    });
    assert.equal(missing.status, 400, missing.text);
    assert.deepEqual(missing.body.fields, {
      api_key: ['a marzban panel does not use api_key (it uses username, password)'],
      username: ['a marzban panel needs username and password'],
    });
    const token = await call('POST', `${USAGE}/panels`, {
      name: 'x',
      type: '3x-ui',
      url: 'https://x.example',
      api_token: SECRETS.refusedPassword,
      settings: { generation: 'legacy' },
    });
    assert.equal(token.status, 400);
    assert.match(token.body.fields.api_token[0], /only on a v3\.1 panel/);
    const settings = await call('POST', `${USAGE}/panels`, {
      name: 'x',
      type: 'eylandoo',
      url: 'https://e.example',
      api_key: SECRETS.refusedPassword,
      settings: { paths: { user: '/users/me' }, generation: 'v3.1' },
    });
    assert.equal(settings.status, 400);
    assert.deepEqual(Object.keys(settings.body.fields).sort(), ['settings.generation', 'settings.paths.user']);
    const dup = await call('POST', `${USAGE}/panels`, {
      ...{ name: 'eu-marzban', type: 'eylandoo' },
      url: 'https://e.example',
      api_key: SECRETS.refusedPassword,
    });
    assert.equal(dup.status, 409, dup.text);
    assert.match(dup.body.message, /a panel named "eu-marzban" exists already/);
    assert.deepEqual(await panelRows(), before, 'nothing written');
  });

  it('panels: PATCH replaces a credential, keeps the others; a refused PATCH changes nothing; unknown ids 404', async () => {
    const [before] = (await panelRows()).filter((r) => r.id === marzban.id);
    const patched = await expect(200, 'PATCH', `${USAGE}/panels/${marzban.id}`, {
      password: SECRETS.rotatedPassword,
      url: 'https://marzban-2.example',
      max_concurrency: 2,
    });
    assert.deepEqual(
      [patched.url, patched.max_concurrency, patched.credentials_set],
      ['https://marzban-2.example', 2, ['username', 'password']],
    );
    const [after] = (await panelRows()).filter((r) => r.id === marzban.id);
    assert.notEqual(after.credentials_sealed, before.credentials_sealed, 'sealed again with the new password');

    const refused = await call('PATCH', `${USAGE}/panels/${marzban.id}`, {
      username: null,
      name: 'renamed',
      url: 'not a url',
    });
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual(Object.keys(refused.body.fields).sort(), ['url']);
    const refusedCredentials = await call('PATCH', `${USAGE}/panels/${marzban.id}`, {
      username: null,
      name: 'renamed',
    });
    assert.equal(refusedCredentials.status, 400);
    assert.deepEqual(Object.keys(refusedCredentials.body.fields), ['username']);
    assert.deepEqual(
      (await panelRows()).find((r) => r.id === marzban.id),
      after,
      'nothing written',
    );
    assert.equal((await call('PATCH', `${USAGE}/panels/${marzban.id}`, {})).status, 400);

    const clash = await call('PATCH', `${USAGE}/panels/${marzban.id}`, { name: 'ir-eylandoo' });
    assert.equal(clash.status, 409);
    for (const id of ['999999', 'abc']) {
      assert.equal((await call('GET', `${USAGE}/panels/${id}`)).status, 404, id);
      assert.equal((await call('PATCH', `${USAGE}/panels/${id}`, { active: false })).status, 404, id);
      assert.equal((await call('DELETE', `${USAGE}/panels/${id}`)).status, 404, id);
    }
    assert.deepEqual((await expect(200, 'GET', `${USAGE}/panels/${marzban.id}`)).url, 'https://marzban-2.example');
  });

  it('configs: created against a reseller and a panel; unknown ones a 400 naming them; one per panel user', async () => {
    const created = await expect(201, 'POST', `${USAGE}/configs`, {
      reseller_id: resellerA,
      panel_id: marzban.id,
      panel_user_id: '1001',
      external_username: 'alice',
      traffic_limit_bytes: 50_000_000_000,
    });
    assert.deepEqual(Object.keys(created).sort(), [
      'created_at',
      'external_username',
      'id',
      'last_usage_error',
      'last_usage_error_at',
      'panel_id',
      'panel_user_id',
      'reseller_id',
      'status',
      'traffic_limit_bytes',
      'updated_at',
      'usage_bytes',
      'usage_percent',
      'usage_synced_at',
    ]);
    assert.deepEqual(
      [created.usage_bytes, created.usage_synced_at, created.last_usage_error, created.status],
      [0, null, null, 'active'],
    );
    for (let i = 0; i < 5; i++)
      await expect(201, 'POST', `${USAGE}/configs`, {
        reseller_id: i < 3 ? resellerA : resellerB,
        panel_id: i % 2 ? eylandoo.id : marzban.id,
        external_username: `user-${i}`,
        status: i === 4 ? 'suspended' : 'active',
      });
    const count = await configCount();
    const unknown = await call('POST', `${USAGE}/configs`, {
      reseller_id: 999999,
      panel_id: 999998,
      external_username: 'bob',
    });
    assert.equal(unknown.status, 400, unknown.text);
    assert.deepEqual(unknown.body.fields, { reseller_id: ['no reseller 999999'], panel_id: ['no panel 999998'] });
    const bad = await call('POST', `${USAGE}/configs`, {
      reseller_id: '1',
      panel_id: marzban.id,
      external_username: '',
      status: 'paused',
      traffic_limit_bytes: -1,
      usage_bytes: 5,
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body.fields).sort(), [
      'external_username',
      'reseller_id',
      'status',
      'traffic_limit_bytes',
      'usage_bytes',
    ]);
    const taken = await call('POST', `${USAGE}/configs`, {
      reseller_id: resellerB,
      panel_id: marzban.id,
      external_username: 'alice',
    });
    assert.equal(taken.status, 409, taken.text);
    assert.match(taken.body.message, new RegExp(`has a config for alice already \\(config ${created.id}\\)`));
    assert.equal(await configCount(), count, 'nothing written');
  });

  it('configs: listed by id over pages and filtered by reseller, panel, status and failing; 400 for bad filters', async () => {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: any = await expect(200, 'GET', `${USAGE}/configs?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(page.data.map((c: any) => c.external_username));
      cursor = page.next_cursor;
    } while (cursor);
    assert.deepEqual(pages, [
      ['alice', 'user-0', 'user-1', 'user-2'],
      ['user-3', 'user-4'],
    ]);
    const names = async (q: string) =>
      (await expect(200, 'GET', `${USAGE}/configs?${q}`)).data.map((c: any) => c.external_username);
    assert.deepEqual(await names(`reseller_id=${resellerB}`), ['user-3', 'user-4']);
    assert.deepEqual(await names(`reseller_id=${resellerA}&panel_id=${eylandoo.id}`), ['user-1']);
    assert.deepEqual(await names('status=suspended'), ['user-4']);
    await db.dataSource.query(
      "UPDATE reseller_configs SET last_usage_error = 'eylandoo panel ir-eylandoo: HTTP 404', last_usage_error_at = NOW(3) WHERE external_username = 'user-1'",
    );
    assert.deepEqual(await names('failing=true'), ['user-1']);
    const bad = await call('GET', `${USAGE}/configs?reseller_id=x&failing=maybe&limit=0&colour=red`);
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body.fields).sort(), ['colour', 'failing', 'limit', 'reseller_id']);
    const cursorBad = await call('GET', `${USAGE}/configs?cursor=${Buffer.from('id:0').toString('base64url')}`);
    assert.equal(cursorBad.status, 400);
    assert.deepEqual(Object.keys(cursorBad.body.fields), ['cursor']);
    const resellers = await expect(200, 'GET', `${USAGE}/resellers`);
    assert.deepEqual(
      resellers.data.map((r: any) => [r.name, r.config_count]),
      [
        ['Reseller A', 4],
        ['Reseller B', 2],
      ],
    );
  });

  it('configs: one by id with its usage and last error; PATCH edits it and keeps the usage; unknown ids 404', async () => {
    const [row] = await db.dataSource.query("SELECT id FROM reseller_configs WHERE external_username = 'alice'");
    await db.dataSource.query(
      'UPDATE reseller_configs SET usage_bytes = 12500000000, usage_synced_at = NOW(3) WHERE id = ?',
      [row.id],
    );
    const one = await expect(200, 'GET', `${USAGE}/configs/${row.id}`);
    assert.deepEqual(
      [one.usage_bytes, one.traffic_limit_bytes, one.usage_percent],
      [12_500_000_000, 50_000_000_000, 25],
    );
    assert.match(one.usage_synced_at, /^\d{4}-\d{2}-\d{2}T.*Z$/);
    const failing = (await expect(200, 'GET', `${USAGE}/configs?failing=true`)).data[0];
    assert.deepEqual(failing.last_usage_error, 'eylandoo panel ir-eylandoo: HTTP 404');
    assert.match(failing.last_usage_error_at, /Z$/);

    const patched = await expect(200, 'PATCH', `${USAGE}/configs/${row.id}`, {
      status: 'disabled',
      traffic_limit_bytes: null,
      panel_user_id: null,
    });
    assert.deepEqual(
      [patched.status, patched.traffic_limit_bytes, patched.usage_percent, patched.panel_user_id, patched.usage_bytes],
      ['disabled', null, null, null, 12_500_000_000],
    );
    const moved = await call('PATCH', `${USAGE}/configs/${row.id}`, { panel_id: 999999 });
    assert.equal(moved.status, 400);
    assert.deepEqual(moved.body.fields, { panel_id: ['no panel 999999'] });
    const readOnly = await call('PATCH', `${USAGE}/configs/${row.id}`, { usage_bytes: 0 });
    assert.equal(readOnly.status, 400);
    assert.deepEqual(Object.keys(readOnly.body.fields), ['usage_bytes']);
    assert.equal((await expect(200, 'GET', `${USAGE}/configs/${row.id}`)).usage_bytes, 12_500_000_000);
    for (const id of ['999999', 'abc']) {
      assert.equal((await call('GET', `${USAGE}/configs/${id}`)).status, 404, id);
      assert.equal((await call('PATCH', `${USAGE}/configs/${id}`, { status: 'active' })).status, 404, id);
    }
  });

  it("a config's sync is forwarded to usage-sync (an unknown config: 404)", async () => {
    const res = await call('POST', `${USAGE}/configs/999999/sync`);
    assert.equal(res.status, 404, res.text);
  });

  it('panels answer their health: last success and error, config counts, failing active configs, error rate', async () => {
    await db.dataSource.query(
      "UPDATE panels SET last_success_at = '2026-12-06 10:00:00.000', last_error = 'HTTP 502', last_error_at = '2026-12-06 10:05:00.000' WHERE id = ?",
      [eylandoo.id],
    );
    const { data } = await expect(200, 'GET', `${USAGE}/panels`);
    const byName = Object.fromEntries(data.map((p: any) => [p.name, p]));
    const e = byName['ir-eylandoo'];
    assert.deepEqual(
      [e.last_success_at, e.last_error, e.last_error_at],
      ['2026-12-06T10:00:00.000Z', 'HTTP 502', '2026-12-06T10:05:00.000Z'],
    );
    // user-1 (failing) and user-3 are on it, both active.
    assert.deepEqual([e.config_count, e.active_config_count, e.failing_config_count, e.error_rate], [2, 2, 1, 0.5]);
    const m = byName['eu-marzban'];
    // alice (disabled now), user-0, user-2, user-4 (suspended).
    assert.deepEqual([m.config_count, m.active_config_count, m.failing_config_count, m.error_rate], [4, 2, 0, 0]);
    assert.equal(m.circuit_state, 'closed', 'no run has read it: its circuit is closed');
    assert.deepEqual([byName['de-3xui'].config_count, byName['de-3xui'].error_rate], [0, null]);
    assert.deepEqual(
      (await expect(200, 'GET', `${USAGE}/panels?active=false`)).data.map((p: any) => p.name),
      ['de-3xui'],
    );
    assert.deepEqual(
      (await expect(200, 'GET', `${USAGE}/panels?type=eylandoo&limit=1`)).data.map((p: any) => p.name),
      ['ir-eylandoo'],
    );
    assert.equal((await call('GET', `${USAGE}/panels?type=wireguard`)).status, 400);
  });

  it('DELETE of a panel with configs is a 409 and deletes nothing; of one without configs a 204', async () => {
    const busy = await call('DELETE', `${USAGE}/panels/${eylandoo.id}`);
    assert.equal(busy.status, 409, busy.text);
    assert.match(
      busy.body.message,
      /panel \d+ \(ir-eylandoo\) still has 2 reseller configs: move them to another panel/,
    );
    assert.ok((await panelRows()).some((r) => r.id === eylandoo.id));
    const gone = await call('DELETE', `${USAGE}/panels/${xui.id}`);
    assert.deepEqual([gone.status, gone.text], [204, '']);
    assert.ok(!(await panelRows()).some((r) => r.id === xui.id));
    assert.equal((await call('GET', `${USAGE}/panels/${xui.id}`)).status, 404);
    // Once its configs moved away, the panel can go.
    const configs = (await expect(200, 'GET', `${USAGE}/configs?panel_id=${eylandoo.id}`)).data;
    for (const c of configs) await expect(200, 'PATCH', `${USAGE}/configs/${c.id}`, { panel_id: marzban.id });
    assert.equal((await call('DELETE', `${USAGE}/panels/${eylandoo.id}`)).status, 204);
  });

  it('no credential ever came back in an answer, nor shows in the log of either process', async () => {
    const logs = [fs.readFileSync(usage.logFile, 'utf8'), fs.readFileSync(gateway.logFile, 'utf8')];
    assert.match(logs[0], /panel \d+ \(eu-marzban, marzban\) created; credentials set: username, password/);
    for (const secret of Object.values(SECRETS)) {
      for (const text of answers) assert.ok(!text.includes(secret), `an answer holds ${secret}`);
      for (const log of logs) assert.ok(!log.includes(secret), `a log holds ${secret}`);
    }
    for (const log of logs) assert.ok(!log.includes(API_KEY), 'a log holds the API key');
  });

  it('an unreachable usage-sync is a 502 at the gateway that names it and USAGE_SYNC_URL', async () => {
    await usage.stop();
    for (const [method, path] of [
      ['GET', `${USAGE}/panels`],
      ['POST', `${USAGE}/configs`],
      ['POST', `${USAGE}/configs/1/sync`],
    ]) {
      const res = await call(method, path, method === 'POST' ? {} : undefined);
      assert.equal(res.status, 502, `${method} ${path}: ${res.text}`);
      assert.match(
        res.body.message,
        /^usage-sync is unreachable \(.*\); resellers, panels and reseller configs are served by usage-sync: check that it runs and USAGE_SYNC_URL$/,
      );
    }
  });
});
