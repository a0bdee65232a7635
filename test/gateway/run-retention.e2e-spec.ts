import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { RunStatus } from '@sync-hub/contracts';
import { dataSourceOptions } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { Notification, RunRetentionService, SyncRun } from '../../apps/gateway/src';
import { createTestDatabase, TestDatabase } from '../support/database';

const NOW = new Date('2026-11-21T02:30:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86400000);

let n = 0;
function run(job: string, status: RunStatus, createdAt: Date): SyncRun {
  return {
    runId: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    domain: 'splynx',
    job,
    companyId: 7,
    scheduleId: null,
    trigger: 'schedule',
    status,
    scheduledFor: createdAt,
    startedAt: createdAt,
    finishedAt: createdAt,
    durationMs: 1000,
    stats: null,
    error: null,
    warnings: null,
    skipReason: null,
    attempts: 1,
    takenOverAt: null,
    takeoverReason: null,
    createdAt,
    updatedAt: createdAt,
  };
}

describe('run history retention on MariaDB (the DELETE MySQL allows, in batches)', () => {
  let db: TestDatabase;
  let ds: DataSource;

  before(async () => {
    db = await createTestDatabase('retention');
    ds = new DataSource({ ...dataSourceOptions({ kind: 'mysql', url: db.url }), entities: [SyncRun, Notification] });
    await ds.initialize();
  });
  after(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('deletes 1,200 old runs over several batches, keeps the recent ones and each job’s last success', async () => {
    const old = Array.from({ length: 1200 }, (_, i) =>
      run(i % 2 ? 'customers' : 'orders', i % 3 ? 'failed' : 'completed', daysAgo(100 + (i % 250) + i / 10000)),
    );
    // customers' newest success is old (kept); orders has a recent success (its old ones go).
    const customersLastSuccess = run('customers', 'completed', daysAgo(95));
    const ordersRecent = run('orders', 'completed', daysAgo(1));
    const recent = Array.from({ length: 30 }, (_, i) => run('customers', 'failed', daysAgo(i + 0.5)));
    const repo = ds.getRepository(SyncRun);
    for (let i = 0; i < old.length; i += 300) await repo.insert(old.slice(i, i + 300));
    await repo.insert([customersLastSuccess, ordersRecent, ...recent]);

    const retention = new RunRetentionService(repo, ds.getRepository(Notification), loadConfig('gateway', {}));
    const result = await retention.purge(NOW);
    assert.equal(result.runs, 1200);
    const left = await repo.find({ order: { createdAt: 'ASC' } });
    assert.equal(left.length, 32);
    assert.equal(left[0].runId, customersLastSuccess.runId, 'the old last success is the oldest row left');
    assert.ok(left.slice(1).every((r) => r.createdAt.getTime() > daysAgo(90).getTime()));
    assert.equal((await retention.purge(NOW)).runs, 0);
  });
});
