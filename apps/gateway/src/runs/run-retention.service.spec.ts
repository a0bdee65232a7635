import assert from 'node:assert/strict';
import { before, beforeEach, describe, it } from 'node:test';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { getRepositoryToken } from '@nestjs/typeorm';
import { APP_CONFIG, loadConfig } from '@sync-hub/config';
import { RunStatus } from '@sync-hub/contracts';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { Notification } from '../notifications/notification.entities';
import { RUN_RETENTION_JOB, RunRetentionService } from './run-retention.service';
import { SyncRun } from './sync-run.entity';

const NOW = new Date('2026-11-21T02:30:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86400000);

let n = 0;
function run(job: string, status: RunStatus, createdAt: Date, companyId = 1): SyncRun {
  const runId = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  return {
    runId,
    domain: 'splynx',
    job,
    companyId,
    scheduleId: null,
    trigger: 'schedule',
    status,
    scheduledFor: createdAt,
    startedAt: createdAt,
    finishedAt: status === 'running' ? null : createdAt,
    durationMs: 1000,
    stats: null,
    error: null,
    warnings: null,
    skipReason: status === 'skipped' ? 'overlap' : null,
    attempts: 1,
    takenOverAt: null,
    takeoverReason: null,
    createdAt,
    updatedAt: createdAt,
  };
}

function notification(runId: string, sentAt: Date | null, createdAt: Date): Partial<Notification> {
  return {
    kind: 'failure',
    channel: 'email',
    jobKey: '1:splynx:customers',
    runId,
    message: '{}',
    attempts: sentAt ? 1 : 4,
    lastError: null,
    nextAttemptAt: createdAt,
    sentAt,
    createdAt,
  };
}

describe('RunRetentionService (SQLite)', () => {
  let db: DataSource;
  const config = loadConfig('gateway', { RUN_HISTORY_RETENTION_DAYS: '90' });
  let retention: RunRetentionService;
  const remaining = async () =>
    new Set((await db.getRepository(SyncRun).find()).map((r) => `${r.companyId}:${r.job}:${r.runId}`));

  before(async () => {
    db = await inMemoryDatabase([SyncRun, Notification]);
    retention = new RunRetentionService(db.getRepository(SyncRun), db.getRepository(Notification), config);
  });
  beforeEach(async () => {
    await db.getRepository(SyncRun).clear();
    await db.getRepository(Notification).clear();
  });

  it('removes runs older than the retention, keeps recent ones and each job’s last success whatever its age', async () => {
    const key = (r: SyncRun) => `${r.companyId}:${r.job}:${r.runId}`;
    // customers: old runs, an old last success, then old and recent failures: the old success is all it has.
    const oldCompleted = run('customers', 'completed', daysAgo(200));
    const oldLastSuccess = run('customers', 'completed', daysAgo(120));
    const oldFailure = run('customers', 'failed', daysAgo(100));
    const oldSkip = run('customers', 'skipped', daysAgo(95));
    const recentFailure = run('customers', 'failed', daysAgo(3));
    // invoices: an old success and a newer (still recent) success: the old one can go.
    const invoicesOld = run('invoices', 'completed', daysAgo(150));
    const invoicesRecent = run('invoices', 'completed', daysAgo(10));
    // orders: only old failures (and a run stuck in running): it loses them all.
    const ordersFailed = [run('orders', 'failed', daysAgo(300)), run('orders', 'failed', daysAgo(91))];
    const ordersStuck = run('orders', 'running', daysAgo(95));
    // Company 2's customers job is another job: its old last success is kept too.
    const otherCompany = run('customers', 'completed', daysAgo(400), 2);
    const edge = run('customers', 'failed', daysAgo(89.9));
    await db
      .getRepository(SyncRun)
      .insert([
        oldCompleted,
        oldLastSuccess,
        oldFailure,
        oldSkip,
        recentFailure,
        invoicesOld,
        invoicesRecent,
        ...ordersFailed,
        ordersStuck,
        otherCompany,
        edge,
      ]);

    const result = await retention.purge(NOW, 2); // batches of 2: several rounds
    assert.equal(result.runs, 7);
    assert.deepEqual(result.cutoff, daysAgo(90));
    assert.deepEqual(
      await remaining(),
      new Set([oldLastSuccess, recentFailure, invoicesRecent, otherCompany, edge].map(key)),
    );

    const again = await retention.purge(NOW);
    assert.equal(again.runs, 0, 'a second pass finds nothing more');
  });

  it('a job’s last success stays even when the same instant holds another success of it (ties are kept)', async () => {
    const at = daysAgo(200);
    const a = run('customers', 'completed', at);
    const b = run('customers', 'completed', at);
    await db.getRepository(SyncRun).insert([a, b]);
    assert.equal((await retention.purge(NOW)).runs, 0);
    assert.equal((await remaining()).size, 2);
  });

  it('removes sent notifications older than the retention and keeps unsent ones, however old', async () => {
    const notifications = db.getRepository(Notification);
    await notifications.insert([
      notification('r-old-sent', daysAgo(100), daysAgo(100)),
      notification('r-recent-sent', daysAgo(5), daysAgo(5)),
      notification('r-old-unsent', null, daysAgo(100)),
    ]);
    const result = await retention.purge(NOW);
    assert.equal(result.notifications, 1);
    assert.deepEqual(
      (await notifications.find({ order: { runId: 'ASC' } })).map((x) => x.runId),
      ['r-old-unsent', 'r-recent-sent'],
    );
  });

  it('follows RUN_HISTORY_RETENTION_DAYS', async () => {
    const short = new RunRetentionService(
      db.getRepository(SyncRun),
      db.getRepository(Notification),
      loadConfig('gateway', { RUN_HISTORY_RETENTION_DAYS: '7' }),
    );
    await db
      .getRepository(SyncRun)
      .insert([run('customers', 'failed', daysAgo(8)), run('customers', 'failed', daysAgo(6))]);
    assert.equal((await short.purge(NOW)).runs, 1);
    assert.equal((await remaining()).size, 1);
  });
});

describe('the retention job in the SchedulerRegistry', () => {
  it(`is the named cron ${RUN_RETENTION_JOB}, daily at 02:30 UTC, started with the app and removed at shutdown`, async () => {
    const db = await inMemoryDatabase([SyncRun, Notification]);
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot()],
      providers: [
        RunRetentionService,
        { provide: getRepositoryToken(SyncRun), useValue: db.getRepository(SyncRun) },
        { provide: getRepositoryToken(Notification), useValue: db.getRepository(Notification) },
        { provide: APP_CONFIG, useValue: loadConfig('gateway', {}) },
      ],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get(SchedulerRegistry);
    try {
      const job = registry.getCronJob(RUN_RETENTION_JOB);
      assert.equal(job.isActive, true, 'started');
      const next = job.nextDate().toUTC();
      assert.deepEqual([next.hour, next.minute, next.second], [2, 30, 0]);
      const following = job.nextDates(2)[1].toUTC();
      assert.equal(following.diff(next, 'hours').hours, 24, 'daily');
    } finally {
      await moduleRef.close();
      await db.destroy();
    }
    assert.equal(registry.doesExist('cron', RUN_RETENTION_JOB), false, 'stopped and removed on shutdown');
  });
});
