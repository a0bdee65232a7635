import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import type { CreateConfigBody } from '@sync-hub/contracts';
import type { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { Panel, Reseller, ResellerConfig, USAGE_ENTITIES } from '../model/usage.entities';
import { ConfigsApiService } from './configs-api.service';
import { ResellersApiService } from './resellers-api.service';

async function badFieldsOf(promise: Promise<unknown>): Promise<Record<string, string[]>> {
  const err = await promise.then(
    () => assert.fail('expected a 400'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof BadRequestException, String(err));
  return (err.getResponse() as { fields: Record<string, string[]> }).fields;
}

describe('ConfigsApiService and ResellersApiService (SQLite)', () => {
  let db: DataSource;
  let configs: ConfigsApiService;
  let resellers: ResellersApiService;
  let resellerId: number;
  let panelIds: number[];
  const rows = () => db.getRepository(ResellerConfig).find({ order: { id: 'ASC' } });
  const body = (over: Partial<CreateConfigBody> = {}): CreateConfigBody => ({
    reseller_id: resellerId,
    panel_id: panelIds[0],
    external_username: 'alice',
    ...over,
  });

  before(async () => {
    db = await inMemoryDatabase(USAGE_ENTITIES);
    configs = new ConfigsApiService(db);
    resellers = new ResellersApiService(db.getRepository(Reseller), db.getRepository(ResellerConfig));
  });
  after(() => db.destroy());
  beforeEach(async () => {
    await db.getRepository(ResellerConfig).clear();
    await db.getRepository(Panel).clear();
    await db.getRepository(Reseller).clear();
    resellerId = (await resellers.create({ name: 'Reseller A' })).id;
    const now = new Date();
    panelIds = [];
    for (const name of ['p1', 'p2'])
      panelIds.push(
        (
          await db.getRepository(Panel).save({
            name,
            type: 'marzban',
            url: 'https://p.example',
            credentialsSealed: null,
            settings: null,
            createdAt: now,
            updatedAt: now,
          })
        ).id,
      );
  });

  it('creates a config: usage 0 until the first sync, status active, the sync columns empty', async () => {
    const view = await configs.create(body({ panel_user_id: '42', traffic_limit_bytes: 10_000_000_000 }));
    assert.deepEqual(
      [view.usage_bytes, view.status, view.usage_percent, view.usage_synced_at, view.last_usage_error],
      [0, 'active', 0, null, null],
    );
    assert.deepEqual([view.panel_user_id, view.traffic_limit_bytes], ['42', 10_000_000_000]);
    assert.deepEqual(await configs.get(view.id), view);
  });

  it('an unknown reseller and panel are one 400 naming both; nothing written', async () => {
    const fields = await badFieldsOf(configs.create(body({ reseller_id: 999, panel_id: 998 })));
    assert.deepEqual(fields, { reseller_id: ['no reseller 999'], panel_id: ['no panel 998'] });
    assert.deepEqual(await rows(), []);
  });

  it('one config per panel user: a second is a 409, on another panel it is fine', async () => {
    const first = await configs.create(body());
    await assert.rejects(configs.create(body()), (err: unknown) => {
      assert.ok(err instanceof ConflictException);
      assert.match(err.message, new RegExp(`has a config for alice already \\(config ${first.id}\\)`));
      return true;
    });
    await configs.create(body({ panel_id: panelIds[1] }));
    assert.equal((await rows()).length, 2);
  });

  it('PATCH changes the given fields and keeps the usage; moving onto a taken user or unknown panel is refused', async () => {
    const a = await configs.create(body());
    const b = await configs.create(body({ external_username: 'bob' }));
    await db
      .getRepository(ResellerConfig)
      .update({ id: a.id }, { usageBytes: 750, usageSyncedAt: new Date(), lastUsageError: 'HTTP 500' });
    const moved = await configs.update(a.id, {
      panel_id: panelIds[1],
      status: 'disabled',
      traffic_limit_bytes: 1000,
    });
    assert.deepEqual(
      [moved.panel_id, moved.status, moved.usage_bytes, moved.usage_percent, moved.last_usage_error],
      [panelIds[1], 'disabled', 750, 75, 'HTTP 500'],
    );
    const cleared = await configs.update(a.id, { traffic_limit_bytes: null, panel_user_id: null });
    assert.deepEqual([cleared.traffic_limit_bytes, cleared.usage_percent], [null, null]);
    await assert.rejects(
      configs.update(b.id, { panel_id: panelIds[1], external_username: 'alice' }),
      ConflictException,
    );
    assert.deepEqual(Object.keys(await badFieldsOf(configs.update(b.id, { panel_id: 777 }))), ['panel_id']);
    assert.deepEqual(Object.keys(await badFieldsOf(configs.update(b.id, { reseller_id: 777 }))), ['reseller_id']);
    assert.deepEqual((await configs.get(b.id)).panel_id, panelIds[0], 'nothing written');
    // Its own username on its own panel is no conflict.
    assert.equal((await configs.update(b.id, { external_username: 'bob' })).external_username, 'bob');
    await assert.rejects(configs.update(9999, { status: 'active' }), NotFoundException);
    await assert.rejects(configs.get(9999), NotFoundException);
    assert.deepEqual(Object.keys(await badFieldsOf(configs.update(a.id, {}))), ['body']);
  });

  it('lists by id over pages, filtered by reseller, panel, status and a failing last sync', async () => {
    const other = (await resellers.create({ name: 'Reseller B' })).id;
    for (let i = 0; i < 6; i++)
      await configs.create(
        body({
          external_username: `u${i}`,
          panel_id: panelIds[i % 2],
          reseller_id: i < 4 ? resellerId : other,
          status: i === 5 ? 'suspended' : 'active',
        }),
      );
    const all = await rows();
    await db.getRepository(ResellerConfig).update({ id: all[2].id }, { lastUsageError: 'HTTP 404' });
    const pages = [];
    let cursor: string | undefined;
    do {
      const page = await configs.list({ limit: 4, cursor });
      pages.push(page.data.map((c) => c.external_username));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    assert.deepEqual(pages, [
      ['u0', 'u1', 'u2', 'u3'],
      ['u4', 'u5'],
    ]);
    const names = async (q: object) => (await configs.list(q)).data.map((c) => c.external_username);
    assert.deepEqual(await names({ reseller_id: other }), ['u4', 'u5']);
    assert.deepEqual(await names({ panel_id: panelIds[1], reseller_id: resellerId }), ['u1', 'u3']);
    assert.deepEqual(await names({ status: 'suspended' }), ['u5']);
    assert.deepEqual(await names({ failing: 'true' }), ['u2']);
    assert.equal((await names({ failing: 'false' })).length, 5);
    // Stale: synced before the time, or never synced and added before it.
    const hour = 3_600_000;
    const t = Date.now();
    await db.getRepository(ResellerConfig).update({ id: all[0].id }, { usageSyncedAt: new Date(t - 2 * hour) });
    await db.getRepository(ResellerConfig).update({ id: all[1].id }, { usageSyncedAt: new Date(t - 1000) });
    await db.getRepository(ResellerConfig).update({ id: all[3].id }, { createdAt: new Date(t + hour) });
    assert.deepEqual(await names({ synced_before: new Date(t - hour).toISOString() }), ['u0']);
    assert.deepEqual(await names({ synced_before: new Date(t).toISOString() }), ['u0', 'u1', 'u2', 'u4', 'u5']);
    assert.deepEqual(Object.keys(await badFieldsOf(configs.list({ cursor: 'aWQ6MA' }))), ['cursor']);

    const listed = await resellers.list({});
    assert.deepEqual(
      listed.data.map((r) => [r.name, r.config_count]),
      [
        ['Reseller A', 4],
        ['Reseller B', 2],
      ],
    );
    assert.equal((await resellers.list({ limit: 1 })).data.length, 1);
  });

  it('reseller names are unique: a second of the same name is a 409', async () => {
    await assert.rejects(resellers.create({ name: 'Reseller A' }), ConflictException);
    assert.equal((await resellers.list({})).data.length, 1);
  });
});
