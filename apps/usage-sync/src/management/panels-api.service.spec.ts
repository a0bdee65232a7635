import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { loadConfig } from '@sync-hub/config';
import type { CreatePanelBody } from '@sync-hub/contracts';
import { SecretKeyCheck } from '@sync-hub/persistence';
import type { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { Panel, Reseller, ResellerConfig, USAGE_ENTITIES } from '../model/usage.entities';
import { PanelSecrets } from '../panels/panel-secrets';
import { PanelCircuits } from '../sync/panel-circuits';
import { PanelsApiService } from './panels-api.service';

const PASSWORD = 'marzban-pass-9f2c41';
const API_KEY = 'eylandoo-key-77a1b3c5';

/** The field errors of a 400 (the shape the validation pipe gives). */
async function badFieldsOf(promise: Promise<unknown>): Promise<Record<string, string[]>> {
  const err = await promise.then(
    () => assert.fail('expected a 400'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof BadRequestException, String(err));
  return (err.getResponse() as { fields: Record<string, string[]> }).fields;
}

describe('PanelsApiService (SQLite, PanelSecrets with a real key)', () => {
  let db: DataSource;
  let secrets: PanelSecrets;
  let panels: PanelsApiService;
  const marzban: CreatePanelBody = {
    name: 'eu-marzban',
    type: 'marzban',
    url: 'https://marzban.example:8443',
    username: 'admin',
    password: PASSWORD,
  };
  const rows = () => db.getRepository(Panel).find({ order: { id: 'ASC' } });

  before(async () => {
    db = await inMemoryDatabase([...USAGE_ENTITIES, SecretKeyCheck]);
    secrets = new PanelSecrets(loadConfig('usage-sync', { SECRETS_KEY: randomBytes(32).toString('base64') }), db);
    await secrets.onApplicationBootstrap();
    panels = new PanelsApiService(db, secrets, new PanelCircuits());
  });
  after(() => db.destroy());
  beforeEach(async () => {
    await db.getRepository(ResellerConfig).clear();
    await db.getRepository(Panel).clear();
    await db.getRepository(Reseller).clear();
  });

  it('creates a panel with its credentials sealed to its id: answered as the names of the fields set, never values', async () => {
    const view = await panels.create(marzban);
    assert.deepEqual(view.credentials_set, ['username', 'password']);
    assert.ok(!JSON.stringify(view).includes(PASSWORD));
    assert.deepEqual(
      [view.type, view.url, view.max_concurrency, view.requests_per_second, view.active, view.settings],
      ['marzban', 'https://marzban.example:8443', 8, null, true, {}],
    );
    const [row] = await rows();
    assert.ok(row.credentialsSealed && !row.credentialsSealed.includes(PASSWORD), 'sealed at rest');
    assert.deepEqual(secrets.open(row), { username: 'admin', password: PASSWORD });
    assert.deepEqual(await panels.get(view.id), view);
  });

  it('a refused panel writes nothing: each bad field named in one 400', async () => {
    const fields = await badFieldsOf(
      panels.create({
        name: 'x',
        type: 'eylandoo',
        url: 'https://e.example',
        username: 'admin',
        settings: { paths: { user: '/no-placeholder' } },
      }),
    );
    assert.deepEqual(Object.keys(fields).sort(), ['api_key', 'settings.paths.user', 'username']);
    assert.deepEqual(await rows(), []);
  });

  it('a second panel of the same name is a 409, and only the first is stored', async () => {
    await panels.create(marzban);
    await assert.rejects(panels.create({ ...marzban, type: 'marzneshin' }), ConflictException);
    assert.equal((await rows()).length, 1);
  });

  it('PATCH: a credential replaced, the others kept; a type change drops what the new type does not read', async () => {
    const { id } = await panels.create({ ...marzban, settings: {} });
    const renamed = await panels.update(id, { password: 'new-pass-1234', max_concurrency: 3 });
    assert.deepEqual([renamed.credentials_set, renamed.max_concurrency], [['username', 'password'], 3]);
    assert.deepEqual(secrets.open((await rows())[0]), { username: 'admin', password: 'new-pass-1234' });

    const eylandoo = await panels.update(id, {
      type: 'eylandoo',
      api_key: API_KEY,
      settings: { paths: { user: '/api/v2/users/{username}' } },
    });
    assert.deepEqual([eylandoo.type, eylandoo.credentials_set], ['eylandoo', ['api_key']]);
    assert.deepEqual(eylandoo.settings, { paths: { user: '/api/v2/users/{username}' } });
    assert.deepEqual(secrets.open((await rows())[0]), { apiKey: API_KEY });

    // Back to 3x-ui without settings: Eylandoo's paths go with the old type.
    const xui = await panels.update(id, { type: '3x-ui', username: 'u', password: 'p-1234' });
    assert.deepEqual([xui.settings, xui.credentials_set], [{}, ['username', 'password']]);
  });

  it('a refused PATCH leaves the row as it was; an unknown panel is a 404; an empty PATCH a 400', async () => {
    const { id } = await panels.create(marzban);
    const before = await rows();
    const fields = await badFieldsOf(
      panels.update(id, { password: null, api_key: API_KEY, url: 'https://moved.example' }),
    );
    assert.deepEqual(Object.keys(fields).sort(), ['api_key', 'password']);
    assert.deepEqual(await rows(), before);
    await assert.rejects(panels.update(id + 100, { active: false }), NotFoundException);
    assert.deepEqual(Object.keys(await badFieldsOf(panels.update(id, {}))), ['body']);
  });

  it('credentials sealed for another panel do not open: credentials_set null, until a PATCH sets them again', async () => {
    const a = await panels.create(marzban);
    const b = await panels.create({ ...marzban, name: 'eu-2' });
    const [rowA] = await rows();
    await db.getRepository(Panel).update({ id: b.id }, { credentialsSealed: rowA.credentialsSealed });
    assert.equal((await panels.get(b.id)).credentials_set, null);
    assert.deepEqual(Object.keys(await badFieldsOf(panels.update(b.id, { active: false }))).sort(), [
      'password',
      'username',
    ]);
    const fixed = await panels.update(b.id, { username: 'admin', password: PASSWORD });
    assert.deepEqual(fixed.credentials_set, ['username', 'password']);
    assert.deepEqual((await panels.get(a.id)).credentials_set, ['username', 'password']);
  });

  it("health from the panel's row and its configs: counts, failing active configs, error rate", async () => {
    const p = await panels.create(marzban);
    const idle = await panels.create({ ...marzban, name: 'idle' });
    const now = new Date();
    const reseller = await db.getRepository(Reseller).save({ name: 'R', createdAt: now, updatedAt: now });
    const config = (n: number, status: string, error: string | null) =>
      db.getRepository(ResellerConfig).save({
        resellerId: reseller.id,
        panelId: p.id,
        externalUsername: `user-${n}`,
        status,
        lastUsageError: error,
        lastUsageErrorAt: error ? now : null,
        createdAt: now,
        updatedAt: now,
      });
    await config(1, 'active', null);
    await config(2, 'active', 'marzban panel eu-marzban: HTTP 404');
    await config(3, 'active', null);
    await config(4, 'disabled', 'HTTP 500');
    await db.getRepository(Panel).update({ id: p.id }, { lastSuccessAt: now, lastError: 'HTTP 404', lastErrorAt: now });
    const view = await panels.get(p.id);
    assert.deepEqual(
      [view.config_count, view.active_config_count, view.failing_config_count, view.error_rate],
      [4, 3, 1, 0.3333],
    );
    assert.deepEqual(
      [view.last_success_at, view.last_error, view.last_error_at],
      [now.toISOString(), 'HTTP 404', now.toISOString()],
    );
    const idleView = (await panels.list({})).data.find((x) => x.id === idle.id)!;
    assert.deepEqual([idleView.config_count, idleView.error_rate, idleView.last_success_at], [0, null, null]);
  });

  it('DELETE: 409 while configs use the panel (nothing deleted), 204 once none do, 404 after', async () => {
    const p = await panels.create(marzban);
    const now = new Date();
    const reseller = await db.getRepository(Reseller).save({ name: 'R', createdAt: now, updatedAt: now });
    await db.getRepository(ResellerConfig).save({
      resellerId: reseller.id,
      panelId: p.id,
      externalUsername: 'user-1',
      createdAt: now,
      updatedAt: now,
    });
    await assert.rejects(panels.remove(p.id), (err: unknown) => {
      assert.ok(err instanceof ConflictException);
      assert.match(err.message, /panel \d+ \(eu-marzban\) still has 1 reseller config: move them/);
      return true;
    });
    assert.equal((await rows()).length, 1);
    await db.getRepository(ResellerConfig).clear();
    await panels.remove(p.id);
    assert.deepEqual(await rows(), []);
    await assert.rejects(panels.remove(p.id), NotFoundException);
  });

  it('lists by id over pages, filtered by type and active; a cursor it did not give out is a 400', async () => {
    for (let i = 0; i < 5; i++)
      await panels.create({ ...marzban, name: `p${i}`, type: i % 2 ? 'marzneshin' : 'marzban', active: i !== 4 });
    const first = await panels.list({ limit: 2 });
    assert.equal(first.data.length, 2);
    const second = await panels.list({ limit: 2, cursor: first.next_cursor! });
    const third = await panels.list({ limit: 2, cursor: second.next_cursor! });
    assert.equal(third.next_cursor, null);
    assert.deepEqual(
      [...first.data, ...second.data, ...third.data].map((p) => p.name),
      ['p0', 'p1', 'p2', 'p3', 'p4'],
    );
    assert.deepEqual(
      (await panels.list({ type: 'marzneshin' })).data.map((p) => p.name),
      ['p1', 'p3'],
    );
    assert.deepEqual(
      (await panels.list({ active: 'false' })).data.map((p) => p.name),
      ['p4'],
    );
    assert.deepEqual(Object.keys(await badFieldsOf(panels.list({ cursor: 'bm9wZQ' }))), ['cursor']);
  });
});
