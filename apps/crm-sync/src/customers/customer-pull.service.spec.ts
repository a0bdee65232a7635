import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { readCursor, SyncCursor } from '@sync-hub/persistence';
import { statsOf } from '@sync-hub/runs';
import { DataSource, QueryFailedError } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { ClientPageOptions, RobawsApiClient, RobawsPage } from '../robaws/robaws-api.client';
import { CustomerPullService, ROBAWS_CLIENTS_STREAM } from './customer-pull.service';
import { RobawsClientRecord } from './normalise';
import { RobawsCustomer } from './robaws-customer.entity';

const config = loadConfig('crm-sync', {});

const record = (id: number): RobawsClientRecord => ({
  id,
  name: `Client ${id}`,
  email: `info@client${id}.example`,
  address: { city: 'Gent', country: 'BE' },
  updatedAt: new Date(Date.UTC(2024, 0, 1) + id * 60_000).toISOString(),
});

/** Robaws's list as the pull reads it: the given pages, in order (a page may repeat a client, as after a deletion). */
class FakeRobaws {
  constructor(readonly pages: RobawsClientRecord[][]) {}

  async *clientPages(_options: ClientPageOptions): AsyncGenerator<RobawsPage> {
    const totalItems = this.pages.reduce((n, p) => n + p.length, 0);
    for (let page = 0; page < this.pages.length; page++)
      yield { items: structuredClone(this.pages[page]), page, totalItems, totalPages: this.pages.length };
  }

  async getClient(_id: number): Promise<RobawsClientRecord | null> {
    return null;
  }
}

const pagesOf = (from: number, count: number, size = 100): RobawsClientRecord[][] => {
  const pages: RobawsClientRecord[][] = [];
  for (let i = 0; i < count; i += size)
    pages.push(Array.from({ length: Math.min(size, count - i) }, (_, k) => record(from + i + k)));
  return pages;
};

const deadlock = () =>
  new QueryFailedError(
    'INSERT …',
    [],
    Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK' }),
  );

describe('CustomerPullService (sql.js, the embedded engine)', () => {
  let ds: DataSource;

  const service = (robaws: FakeRobaws) => new CustomerPullService(robaws as unknown as RobawsApiClient, ds, config);
  /** Makes the n-th transaction from now on (1-based) fail with `error` before it runs. */
  const failTransaction = (n: number, error: () => Error) => {
    const original = ds.transaction.bind(ds) as (...args: unknown[]) => Promise<unknown>;
    let calls = 0;
    (ds as unknown as { transaction: unknown }).transaction = (...args: unknown[]) =>
      ++calls === n ? Promise.reject(error()) : original(...args);
    return () => calls;
  };

  beforeEach(async () => {
    await ds?.destroy();
    ds = await inMemoryDatabase([RobawsCustomer, SyncCursor]);
  });

  after(async () => {
    await ds?.destroy();
  });

  it('writes batches of pages and moves the cursor with the last one, to the newest change stored', async () => {
    const { stats } = await service(new FakeRobaws(pagesOf(1, 2050))).pull({ mode: 'full' });
    assert.deepEqual([stats.fetched, stats.created, stats.unchanged], [2050, 2050, 0]);
    assert.equal(await ds.getRepository(RobawsCustomer).count(), 2050);
    assert.equal((await readCursor(ds.manager, ROBAWS_CLIENTS_STREAM))?.position, record(2050).updatedAt);
    const again = await service(new FakeRobaws(pagesOf(1, 2050))).pull({ mode: 'full' });
    assert.deepEqual([again.stats.created, again.stats.updated, again.stats.unchanged], [0, 0, 2050]);
  });

  it('a client on two pages (the list shifted) is stored once and counted once', async () => {
    // Client 500 ends page 5 and, the list having shifted by one meanwhile, starts page 6 too.
    const ids = [
      ...Array.from({ length: 500 }, (_, i) => i + 1),
      500,
      ...Array.from({ length: 500 }, (_, i) => i + 501),
    ];
    const pages = Array.from({ length: 11 }, (_, p) => ids.slice(p * 100, p * 100 + 100).map(record));
    const { stats } = await service(new FakeRobaws(pages)).pull({ mode: 'full' });
    assert.equal(await ds.getRepository(RobawsCustomer).count(), 1000);
    assert.deepEqual([stats.fetched, stats.created, stats.unchanged], [1001, 1000, 1]);
  });

  it("a batch MariaDB rolled back as a deadlock's victim is written again and counted once", async () => {
    const calls = failTransaction(2, deadlock);
    const { stats } = await service(new FakeRobaws(pagesOf(1, 1500))).pull({ mode: 'full' });
    assert.ok(calls() >= 4, 'three batches, one of them tried twice');
    assert.deepEqual([stats.created, stats.updated, stats.unchanged], [1500, 0, 0]);
    assert.equal(await ds.getRepository(RobawsCustomer).count(), 1500);
  });

  it('a batch that fails otherwise fails the run, leaves the cursor where it was, and nothing of it writes after', async () => {
    const calls = failTransaction(2, () => new Error('disk full'));
    await assert.rejects(service(new FakeRobaws(pagesOf(1, 2500))).pull({ mode: 'full' }), (err: Error) => {
      assert.match(err.message, /disk full/);
      assert.equal(statsOf(err)?.fetched !== undefined, true, 'the run keeps its counts');
      return true;
    });
    const stored = await ds.getRepository(RobawsCustomer).count();
    assert.equal(
      await readCursor(ds.manager, ROBAWS_CLIENTS_STREAM),
      null,
      'no cursor: the next run reads it all again',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await ds.getRepository(RobawsCustomer).count(), stored, 'no write lands after the run ended');
    assert.ok(stored < 2500 && calls() <= 4);
  });
});
