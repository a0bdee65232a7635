import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { findJob, RunStats, scheduledParams, SPLYNX_CUSTOMERS, SPLYNX_CUSTOMERS_FULL } from '@sync-hub/contracts';
import { JobHandler, SyncJob } from './job-handler';
import { RunsModule } from './runs.module';

@Injectable()
@JobHandler(SPLYNX_CUSTOMERS)
class CustomersJob implements SyncJob {
  async run(): Promise<RunStats> {
    return new RunStats();
  }
}

@Injectable()
@JobHandler(SPLYNX_CUSTOMERS_FULL)
class CustomersFullJob implements SyncJob {
  async run(): Promise<RunStats> {
    return new RunStats();
  }
}

@Injectable()
class UnmarkedJob implements SyncJob {
  async run(): Promise<RunStats> {
    return new RunStats();
  }
}

describe('RunsModule.forDomain: the registry and the handlers cannot drift apart', () => {
  it('binds a marked handler of the domain and consumes the domain tick topic', () => {
    const module = RunsModule.forDomain('splynx', { jobs: [CustomersJob, CustomersFullJob] });
    assert.ok(module.providers?.includes(CustomersJob));
    assert.equal((module.controllers ?? []).length, 1);
  });

  it('fails at start-up when a registered job of the domain has no handler', () => {
    assert.ok(findJob('splynx', 'customers'));
    assert.throws(
      () => RunsModule.forDomain('splynx', { jobs: [] }),
      /registered splynx\/customers, splynx\/customers\.full without a handler/,
    );
  });

  it('fails when a handler is not bound to a registry entry, or belongs to another domain', () => {
    assert.throws(
      () => RunsModule.forDomain('splynx', { jobs: [CustomersJob, CustomersFullJob, UnmarkedJob] }),
      /not marked @JobHandler/,
    );
    assert.throws(
      () => RunsModule.forDomain('usage', { jobs: [CustomersJob, CustomersFullJob] }),
      /handles splynx\/customers, not a usage job/,
    );
  });

  it('ping is built in: a domain binds a handler for every registered job but ping', () => {
    assert.ok(findJob('splynx', 'ping'));
    assert.doesNotThrow(() => RunsModule.forDomain('splynx', { jobs: [CustomersJob, CustomersFullJob] }));
  });
});

describe('scheduledParams: what a schedule puts in its ticks', () => {
  it('carries date_range_days only to a job whose params take it', () => {
    assert.equal(scheduledParams('splynx', 'customers', { dateRangeDays: 7 }), undefined, 'splynx takes no date range');
    assert.deepEqual(scheduledParams('accounting', 'sales', { dateRangeDays: 7 }), { dateRangeDays: 7 }, 'seed 001');
    assert.equal(scheduledParams('crm', 'cp.export', { dateRangeDays: 7 }), undefined, 'not registered yet');
    assert.equal(scheduledParams('splynx', 'customers', { dateRangeDays: null }), undefined);
  });
});
