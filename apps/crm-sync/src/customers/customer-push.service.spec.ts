import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { UpstreamHttpError } from '@sync-hub/http';
import { SyncCursor, writeCursor } from '@sync-hub/persistence';
import { statsOf } from '@sync-hub/runs';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { ClientPageOptions, RobawsApiClient, RobawsPage } from '../robaws/robaws-api.client';
import { CustomerPushService } from './customer-push.service';
import { mapRobawsClient, RobawsClientRecord } from './normalise';
import { editableValues } from './push-plan';
import { EditableValues, LocalEdit, RobawsCustomer } from './robaws-customer.entity';

const config = loadConfig('crm-sync', {});

const record = (id: number, overrides: Partial<RobawsClientRecord> = {}): RobawsClientRecord => ({
  id,
  name: `Client ${id}`,
  email: `info@client${id}.example`,
  tel: null,
  gsm: null,
  address: { addressLine1: 'Kerkstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
  extraFields: { Role: { type: 'SELECT', group: null, stringValue: 'CUSTOMER' } },
  updatedAt: `2024-0${Math.min(9, Math.floor(id / 100))}-01T00:00:00.000Z`,
  ...overrides,
});

/** Robaws as the push sees it: a store of records, and every call recorded. */
class FakeRobaws {
  readonly store = new Map<number, RobawsClientRecord>();
  readonly lists: ClientPageOptions[] = [];
  readonly gets: number[] = [];
  readonly patches: Array<{ id: number; patch: Record<string, unknown> }> = [];
  /** The list's length as Robaws reports it (a long list makes the push read one by one). */
  reportedPages: number | null = null;
  failPatch = new Map<number, number>();
  /** Runs while a PATCH is on its way (an operator editing the customer again meanwhile). */
  duringPatch: ((id: number) => Promise<void>) | null = null;

  async *clientPages(options: ClientPageOptions): AsyncGenerator<RobawsPage> {
    this.lists.push(options);
    const items = [...this.store.values()].filter(
      (r) => !options.updatedFrom || Date.parse(String(r.updatedAt)) >= options.updatedFrom.getTime(),
    );
    const totalPages = this.reportedPages ?? Math.max(1, Math.ceil(items.length / options.pageSize));
    for (let page = 0; page < totalPages; page++)
      yield {
        items: items.slice(page * options.pageSize, (page + 1) * options.pageSize),
        page,
        totalItems: items.length,
        totalPages,
      };
  }

  async getClient(id: number): Promise<RobawsClientRecord | null> {
    this.gets.push(id);
    return structuredClone(this.store.get(id) ?? null);
  }

  async patchClient(id: number, patch: Record<string, unknown>): Promise<RobawsClientRecord> {
    this.patches.push({ id, patch });
    await this.duringPatch?.(id);
    const status = this.failPatch.get(id);
    if (status)
      throw new UpstreamHttpError('robaws', status, `PATCH /api/v2/clients/${id}`, {
        status,
        message: status === 404 ? `Client with id ${id} not found` : 'refused',
      });
    const current = this.store.get(id)!;
    const next = { ...current, ...patch, updatedAt: '2026-01-01T00:00:00.000Z' } as RobawsClientRecord;
    if (patch.address) next.address = { ...current.address, ...patch.address };
    this.store.set(id, next);
    return structuredClone(next);
  }
}

describe('CustomerPushService', () => {
  let ds: DataSource;
  let robaws: FakeRobaws;
  let service: CustomerPushService;

  const stored = async (id: number) => ds.getRepository(RobawsCustomer).findOneByOrFail({ robawsId: id });

  /** A customer pulled from Robaws's record, then edited locally as the API does. */
  const customer = async (upstream: RobawsClientRecord, fields?: EditableValues): Promise<void> => {
    robaws.store.set(Number(upstream.id), structuredClone(upstream));
    const { robawsId, ...mapped } = mapRobawsClient(upstream, 'BE').fields;
    let localDirty: LocalEdit | null = null;
    if (fields) {
      const values = editableValues(upstream, 'BE');
      const base: EditableValues = {};
      for (const field of Object.keys(fields) as Array<keyof EditableValues>) base[field] = values[field];
      localDirty = { fields, base, baseUpdatedAt: upstream.updatedAt ?? null, editedAt: '2026-01-01T00:00:00.000Z' };
    }
    await ds
      .getRepository(RobawsCustomer)
      .save({ ...mapped, ...fields, robawsId: Number(robawsId), syncedAt: new Date(), localDirty } as RobawsCustomer);
  };

  beforeEach(async () => {
    await ds?.destroy();
    ds = await inMemoryDatabase([RobawsCustomer, SyncCursor]);
    robaws = new FakeRobaws();
    service = new CustomerPushService(robaws as unknown as RobawsApiClient, ds, config);
  });

  after(async () => {
    await ds?.destroy();
  });

  it('an edit made again while its push is on its way is kept, with the pushed version stored beside it', async () => {
    await customer(record(310), { city: 'Brugge' });
    const newer: LocalEdit = {
      fields: { city: 'Antwerpen' },
      base: { city: 'Gent' },
      baseUpdatedAt: record(310).updatedAt ?? null,
      editedAt: '2026-01-02T00:00:00.000Z',
    };
    robaws.duringPatch = async (id) => {
      await ds.getRepository(RobawsCustomer).update({ robawsId: id }, { city: 'Antwerpen', localDirty: newer });
    };
    const { stats } = await service.push({});
    assert.equal(stats.pushed, 1);
    const row = await stored(310);
    assert.deepEqual(row.localDirty, newer, 'the newer edit is not lost');
    assert.equal(row.city, 'Antwerpen');
    assert.equal((row.metadata.address as { city?: string }).city, 'Brugge', "Robaws's answer is stored beside it");
    assert.equal(row.upstreamUpdatedAt?.toISOString(), '2026-01-01T00:00:00.000Z');
    robaws.duringPatch = null;
    const next = await service.push({});
    assert.deepEqual([next.stats.conflicts, next.stats.pushed], [1, 0], 'its base is older than Robaws: a conflict');
  });

  it('a dry run plans the patches in id order and sends and writes nothing', async () => {
    await customer(record(302), { city: 'Brugge' });
    await customer(record(301), { name: 'Renamed', role: 'SUPPLIER' });
    await customer(record(303));
    const { stats, planned } = await service.push({ dryRun: true });
    assert.deepEqual(planned, [
      {
        robawsId: 301,
        patch: { name: 'Renamed', extraFields: { Role: { type: 'SELECT', stringValue: 'SUPPLIER' } } },
      },
      { robawsId: 302, patch: { address: { city: 'Brugge' } } },
    ]);
    assert.deepEqual([stats.pushed, stats.conflicts, stats.failed], [0, 0, 0]);
    assert.equal(robaws.patches.length, 0);
    assert.ok((await stored(301)).localDirty, 'still dirty');
  });

  it("reads Robaws's versions in one list since the oldest base; a client absent from it is as stored", async () => {
    await customer(record(150), { name: 'Local 150' });
    await customer(record(420), { name: 'Local 420' });
    // Robaws changed 420's name after the edit: the list (since 150's older base) shows it.
    robaws.store.set(420, record(420, { name: 'Remote 420', updatedAt: '2025-06-01T00:00:00.000Z' }));
    const { stats } = await service.push({});
    assert.deepEqual(
      robaws.lists.map((l) => l.updatedFrom?.toISOString()),
      ['2024-01-01T00:00:00.000Z'],
    );
    assert.deepEqual(robaws.gets, [], 'no GET per customer');
    assert.deepEqual([stats.pushed, stats.conflicts], [1, 1]);
    assert.deepEqual(robaws.patches, [{ id: 150, patch: { name: 'Local 150' } }]);
    const conflict = (await stored(420)).conflict;
    assert.deepEqual(conflict?.remote, { name: 'Remote 420' });
    assert.equal(conflict?.remoteUpdatedAt, '2025-06-01T00:00:00.000Z');
  });

  it("after pulls, reads only what changed since the pull cursor (minus the pull's overlap)", async () => {
    await customer(record(150), { name: 'Local 150' });
    await customer(record(151), { name: 'Local 151' });
    await writeCursor(ds.manager, 'robaws.clients', '2025-03-01T00:05:00.000Z');
    robaws.store.set(420, record(420, { updatedAt: '2025-06-01T00:00:00.000Z' }));
    const { stats } = await service.push({ limit: 5 });
    assert.deepEqual(
      robaws.lists.map((l) => l.updatedFrom?.toISOString()),
      ['2025-03-01T00:00:00.000Z'],
    );
    assert.deepEqual(robaws.gets, []);
    assert.equal(stats.pushed, 2);
  });

  it('reads one by one when the list of changed clients would be far longer than the batch', async () => {
    await customer(record(150), { name: 'Local 150' });
    await customer(record(151), { name: 'Local 151' });
    robaws.reportedPages = 500;
    const { stats } = await service.push({});
    assert.equal(robaws.lists.length, 1, 'the first page says how long the list is');
    assert.deepEqual(robaws.gets, [150, 151]);
    assert.equal(stats.pushed, 2);
  });

  it('a 404 or 415 for one customer is counted failed, its edit kept (404: deleted_upstream); the others go', async () => {
    await customer(record(201), { name: 'Gone' });
    await customer(record(202), { name: 'Refused' });
    await customer(record(203), { name: 'Fine' });
    robaws.failPatch.set(201, 404).set(202, 415);
    const { stats } = await service.push({});
    assert.deepEqual([stats.pushed, stats.failed], [1, 2]);
    const gone = await stored(201);
    assert.deepEqual([gone.deletedUpstream, gone.localDirty?.fields], [true, { name: 'Gone' }]);
    const refused = await stored(202);
    assert.deepEqual([refused.deletedUpstream, refused.localDirty?.fields], [false, { name: 'Refused' }]);
    const fine = await stored(203);
    assert.deepEqual([fine.localDirty, fine.name, fine.metadata.name], [null, 'Fine', 'Fine']);
    assert.ok(fine.pushedAt instanceof Date);
  });

  it('a 5xx (after the retries) fails the push, with the stats so far attached', async () => {
    await customer(record(201), { name: 'First' });
    await customer(record(202), { name: 'Second' });
    robaws.failPatch.set(202, 503);
    const err = await service.push({}).then(
      () => assert.fail('the push should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof UpstreamHttpError);
    assert.equal(statsOf(err).pushed, 1);
    assert.ok((await stored(202)).localDirty, 'the edit is kept');
  });

  it('limit takes the first dirty customers by id; an edit Robaws already holds is clean without a PATCH', async () => {
    await customer(record(101), { name: 'Client 101' });
    await customer(record(102), { name: 'Renamed 102' });
    await customer(record(103), { name: 'Renamed 103' });
    const { stats } = await service.push({ limit: 2 });
    assert.deepEqual([stats.pushed, stats.unchanged], [1, 1]);
    assert.deepEqual(
      robaws.patches.map((p) => p.id),
      [102],
    );
    assert.equal((await stored(101)).localDirty, null);
    assert.equal((await stored(101)).pushedAt, null, 'nothing was pushed for it');
    assert.ok((await stored(103)).localDirty);
  });

  it('clientId: one GET; a client gone from Robaws is failed and marked; an open conflict is skipped', async () => {
    await customer(record(301), { name: 'Local' });
    robaws.store.delete(301);
    let { stats } = await service.push({ clientId: 301 });
    assert.deepEqual(robaws.gets, [301]);
    assert.deepEqual([stats.failed, stats.pushed], [1, 0]);
    assert.equal((await stored(301)).deletedUpstream, true);

    await customer(record(302), { name: 'Local' });
    await ds
      .getRepository(RobawsCustomer)
      .update(
        { robawsId: 302 },
        { conflict: { local: { name: 'Local' }, remote: { name: 'R' }, remoteUpdatedAt: null, detectedAt: '' } },
      );
    ({ stats } = await service.push({ clientId: 302 }));
    assert.deepEqual([stats.skipped, stats.pushed], [1, 0]);
    assert.equal(robaws.patches.length, 0);
  });
});
