import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { loadConfig } from '@sync-hub/config';
import { RunStats, SPLYNX_CUSTOMERS, SPLYNX_CUSTOMERS_FULL } from '@sync-hub/contracts';
import { PlatformModule } from '@sync-hub/platform';
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

describe('periodic work of a sync app runs as named @nestjs/schedule jobs', () => {
  it('registers runs.sweep, runs.lease-renewal and outbox.flush, and stops them on shutdown', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'periodic-jobs-'));
    const config = loadConfig('splynx-sync', { DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    @Module({
      imports: [
        PlatformModule.forConfig(config),
        RunsModule.forDomain('splynx', { jobs: [CustomersJob, CustomersFullJob] }),
      ],
    })
    class SyncAppLike {}
    const app = await NestFactory.createApplicationContext(SyncAppLike, { logger: false });
    try {
      const registry = app.get(SchedulerRegistry);
      for (const name of ['runs.sweep', 'runs.lease-renewal', 'outbox.flush']) {
        assert.ok(registry.getIntervals().includes(name), `${name} is a named interval`);
      }
    } finally {
      await app.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    assert.throws(() => app.get(SchedulerRegistry).getInterval('runs.sweep'), /No Interval was found/);
  });
});
