import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { ConfigurationError, envelope, RunStats, SPLYNX_CUSTOMERS, SyncRequestedPayload } from '@sync-hub/contracts';
import { UpstreamHttpError } from '@sync-hub/http';
import { InProcessBus, InProcessEventPublisher, MessageProcessor, ReliablePublisher } from '@sync-hub/messaging';
import { MetricsService } from '@sync-hub/observability';
import { JobLease, JobLeasesService, OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../test/support/sqlite';
import { RunClaim } from './run-claim.entity';
import { RunClaimsService } from './run-claims.service';
import { jobLeaseName, RunExecutor } from './run-executor';

function tickOf(over: Partial<SyncRequestedPayload> = {}): SyncRequestedPayload {
  const now = Date.now();
  const payload: SyncRequestedPayload = {
    runId: crypto.randomUUID(),
    domain: 'splynx',
    job: 'customers',
    companyId: 1,
    trigger: 'manual',
    scheduledFor: new Date(now).toISOString(),
    deadline: new Date(now + 60000).toISOString(),
    ...over,
  };
  return envelope('sync.splynx.requested', payload, payload.runId).payload;
}

describe('RunExecutor metrics: runs by status, failures by origin and code, skips by reason, duration', () => {
  let db: DataSource;
  let leases: JobLeasesService;
  let metrics: MetricsService;
  let executor: RunExecutor;

  async function valueOf(name: string, labels: Record<string, string>): Promise<number | undefined> {
    const { values } = await metrics.registry.getSingleMetric(name)!.get();
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  }

  before(async () => {
    db = await inMemoryDatabase([RunClaim]);
    const bus = new InProcessBus();
    leases = new JobLeasesService(db.getRepository(JobLease));
    const config = loadConfig('splynx-sync', {});
    const publisher = new InProcessEventPublisher(bus);
    metrics = new MetricsService();
    executor = new RunExecutor(
      config,
      new MessageProcessor(publisher, config, metrics),
      new ReliablePublisher(publisher, db.getRepository(OutboxMessage)),
      new RunClaimsService(db.getRepository(RunClaim)),
      leases,
      metrics,
    );
    executor.retryBaseDelayMs = 1;
  });

  it('counts each ending once with its labels', async () => {
    const labels = { domain: 'splynx', job: 'customers' };
    const stats: RunStats = { fetched: 3, created: 2, updated: 1, unchanged: 0, skipped: 0, failed: 0 };
    executor.bind(SPLYNX_CUSTOMERS, { run: async () => stats });
    for (let i = 0; i < 2; i++) assert.equal((await executor.execute(tickOf())).status, 'completed');

    executor.bind(
      { ...SPLYNX_CUSTOMERS, retries: 0 },
      { run: () => Promise.reject(new ConfigurationError('SPLYNX_NOT_CONFIGURED', 'SPLYNX_URL is not set')) },
    );
    assert.equal((await executor.execute(tickOf())).status, 'failed');
    executor.bind(
      { ...SPLYNX_CUSTOMERS, retries: 1 },
      { run: () => Promise.reject(new UpstreamHttpError('splynx', 503, 'GET /customers', 'down')) },
    );
    for (let i = 0; i < 3; i++) assert.equal((await executor.execute(tickOf())).status, 'failed');

    // Stale: past its deadline; the same stale tick delivered twice is one skip.
    const stale = tickOf({ deadline: new Date(Date.now() - 1000).toISOString() });
    assert.equal((await executor.execute(stale)).status, 'skipped');
    assert.equal((await executor.execute(stale)).status, 'skipped');
    // Overlap: another run holds the job's lease.
    const holder = tickOf();
    assert.ok(await leases.acquire(jobLeaseName(holder), holder.runId, 60000, new Date(), holder.runId));
    assert.deepEqual(await executor.execute(tickOf()), { status: 'skipped', reason: 'overlap' });
    await leases.release(jobLeaseName(holder), holder.runId);

    assert.equal(await valueOf('sync_runs_total', { ...labels, status: 'completed' }), 2);
    assert.equal(await valueOf('sync_runs_total', { ...labels, status: 'failed' }), 4);
    assert.equal(await valueOf('sync_runs_total', { ...labels, status: 'skipped' }), 2);
    assert.equal(
      await valueOf('sync_run_failures_total', { ...labels, origin: 'config', code: 'SPLYNX_NOT_CONFIGURED' }),
      1,
    );
    assert.equal(
      await valueOf('sync_run_failures_total', { ...labels, origin: 'source', code: 'UPSTREAM_UNAVAILABLE' }),
      3,
    );
    assert.equal((await metrics.runFailures.get()).values.length, 2);
    assert.equal(await valueOf('sync_runs_skipped_total', { ...labels, reason: 'stale' }), 1);
    assert.equal(await valueOf('sync_runs_skipped_total', { ...labels, reason: 'overlap' }), 1);
    assert.equal(await valueOf('sync_records_total', { ...labels, outcome: 'created' }), 4);
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /^sync_run_duration_seconds_count\{domain="splynx",job="customers"\} 6$/m,
      'ended runs have a duration; skipped ticks never started',
    );
  });
});
