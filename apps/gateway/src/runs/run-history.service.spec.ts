import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { RunEventPayload } from '@sync-hub/contracts';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { RunHistoryService } from './run-history.service';
import { SyncRun } from './sync-run.entity';

function event(runId: string, over: Partial<RunEventPayload> = {}): RunEventPayload {
  return {
    runId,
    domain: 'splynx',
    job: 'customers',
    companyId: 1,
    trigger: 'schedule',
    startedAt: '2026-11-21T10:00:00.000Z',
    stats: { fetched: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 },
    ...over,
  };
}

describe('RunHistoryService', () => {
  let db: DataSource;
  let history: RunHistoryService;
  before(async () => {
    db = await inMemoryDatabase([SyncRun]);
    history = new RunHistoryService(db.getRepository(SyncRun));
  });

  const done = {
    finishedAt: '2026-11-21T10:00:05.000Z',
    durationMs: 5000,
    stats: { fetched: 9, created: 9, updated: 0, unchanged: 0, skipped: 0, failed: 0 },
  };

  it('started then completed gives one completed row', async () => {
    const id = '11111111-1111-4111-8111-111111111111';
    await history.record('running', event(id));
    assert.equal((await history.find(id))?.status, 'running');
    await history.record('completed', event(id, done));
    const row = await history.find(id);
    assert.equal(row?.status, 'completed');
    assert.equal(row?.stats?.fetched, 9);
    assert.equal(row?.durationMs, 5000);
  });

  it('a completed that arrives before its started still yields one correct row', async () => {
    const id = '22222222-2222-4222-8222-222222222222';
    await history.record('completed', event(id, done));
    await history.record('running', event(id));
    const rows = await db.getRepository(SyncRun).findBy({ runId: id });
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 'completed');
    assert.equal(rows[0].startedAt?.toISOString(), '2026-11-21T10:00:00.000Z');
    assert.equal(rows[0].finishedAt?.toISOString(), '2026-11-21T10:00:05.000Z');
  });

  it('a redelivered terminal event changes nothing', async () => {
    const id = '33333333-3333-4333-8333-333333333333';
    await history.record(
      'failed',
      event(id, { ...done, error: { code: 'UPSTREAM_UNAVAILABLE', message: 'x', retriable: true, origin: 'source' } }),
    );
    await history.record('completed', event(id, done));
    const row = await history.find(id);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.error?.code, 'UPSTREAM_UNAVAILABLE');
  });

  it('keeps the warnings of a completed run, whichever of its events comes first; a run without has none', async () => {
    const id = '44444444-4444-4444-8444-444444444444';
    const warnings = ['the refresh token of company 1 expires in 9 days'];
    await history.record('completed', event(id, { ...done, warnings }));
    await history.record('running', event(id));
    assert.deepEqual((await history.find(id))?.warnings, warnings);
    const started = '55555555-5555-4555-8555-555555555555';
    await history.record('running', event(started));
    await history.record('completed', event(started, { ...done, warnings }));
    assert.deepEqual((await history.find(started))?.warnings, warnings);
    assert.equal((await history.find('11111111-1111-4111-8111-111111111111'))?.warnings, null);
  });

  describe('a run taken over by another worker', () => {
    const interrupted = {
      ...done,
      error: { code: 'INTERRUPTED', message: 'stopped', retriable: true, origin: 'internal' as const },
    };
    const takeover = {
      attempt: 2,
      takenOverAt: '2026-11-21T10:00:07.000Z',
      takeoverReason: 'handed_over' as const,
      startedAt: '2026-11-21T10:00:07.000Z',
    };
    const completed2 = {
      ...takeover,
      finishedAt: '2026-11-21T10:00:09.000Z',
      durationMs: 2000,
      stats: { fetched: 9, created: 4, updated: 0, unchanged: 5, skipped: 0, failed: 0 },
    };

    it("a later attempt's events supersede the first attempt's terminal event; the run keeps its first start", async () => {
      const id = '66666666-6666-4666-8666-666666666666';
      await history.record('running', event(id));
      await history.record('failed', event(id, interrupted));
      await history.record('running', event(id, takeover));
      const running = await history.find(id);
      assert.deepEqual(
        [running?.status, running?.attempts, running?.takeoverReason, running?.error, running?.finishedAt],
        ['running', 2, 'handed_over', null, null],
        'the takeover is running: the INTERRUPTED ending is no longer the run’s',
      );
      await history.record('completed', event(id, completed2));
      const row = await history.find(id);
      assert.equal(row?.status, 'completed');
      assert.equal(row?.attempts, 2);
      assert.equal(row?.takenOverAt?.toISOString(), '2026-11-21T10:00:07.000Z');
      assert.equal(row?.takeoverReason, 'handed_over');
      assert.equal(row?.error, null);
      assert.equal(row?.stats?.unchanged, 5);
      assert.equal(row?.startedAt?.toISOString(), '2026-11-21T10:00:00.000Z', 'the first attempt’s start');
      assert.equal(row?.finishedAt?.toISOString(), '2026-11-21T10:00:09.000Z');
      assert.equal(row?.durationMs, 2000, 'the last attempt’s duration');
    });

    it("an earlier attempt's events, late or redelivered, change nothing; the later attempt's repeats neither", async () => {
      const id = '77777777-7777-4777-8777-777777777777';
      await history.record('completed', event(id, { ...completed2, takeoverReason: 'claim_expired' }));
      const first = await history.find(id);
      await history.record('running', event(id));
      await history.record('failed', event(id, interrupted));
      await history.record('running', event(id, { ...takeover, takeoverReason: 'claim_expired' }));
      await history.record('failed', event(id, { ...completed2, error: interrupted.error }));
      const row = await history.find(id);
      assert.deepEqual(
        [row?.status, row?.attempts, row?.takeoverReason, row?.error, row?.stats, row?.updatedAt],
        ['completed', 2, 'claim_expired', null, first?.stats, first?.updatedAt],
      );
      assert.equal((await db.getRepository(SyncRun).findBy({ runId: id })).length, 1);
    });

    it('a third attempt supersedes the second; an event without an attempt counts as the first', async () => {
      const id = '88888888-8888-4888-8888-888888888888';
      await history.record('running', event(id, { ...takeover, takeoverReason: 'claim_expired' }));
      await history.record('running', event(id, { ...takeover, attempt: 3, takenOverAt: '2026-11-21T10:01:10.000Z' }));
      await history.record('completed', event(id, done));
      const row = await history.find(id);
      assert.deepEqual(
        [row?.status, row?.attempts, row?.takeoverReason, row?.takenOverAt?.toISOString()],
        ['running', 3, 'handed_over', '2026-11-21T10:01:10.000Z'],
      );
    });

    it('a run never taken over has one attempt and no takeover', async () => {
      const row = await history.find('11111111-1111-4111-8111-111111111111');
      assert.deepEqual([row?.attempts, row?.takenOverAt, row?.takeoverReason], [1, null, null]);
    });
  });

  it('lists newest first with filters', async () => {
    const failed = await history.list({ status: 'failed', limit: 10 });
    assert.deepEqual(
      failed.map((r) => r.runId),
      ['33333333-3333-4333-8333-333333333333'],
    );
    assert.equal((await history.list({ domain: 'splynx', limit: 2 })).length, 2);
  });
});
