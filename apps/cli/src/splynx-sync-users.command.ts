import { randomUUID } from 'node:crypto';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import { SyncRequestedPayload } from '@sync-hub/contracts';
import { classifyError, PlatformModule, RunExecutor, RunOutcome, statsOf } from '@sync-hub/platform';
import { Logger } from 'nestjs-pino';
import { SPLYNX_SYNC_FEATURES } from '../../splynx-sync/src/splynx-sync.module';
import { customerSyncParams } from '../../splynx-sync/src/customers/customers.controller';
import { CustomerSyncService } from '../../splynx-sync/src/customers/customer-sync.service';

async function context(config: AppConfig): Promise<INestApplicationContext> {
  @Module({ imports: [PlatformModule.forConfig(config), ...SPLYNX_SYNC_FEATURES] })
  class SplynxCliModule {}
  const app = await NestFactory.createApplicationContext(SplynxCliModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  return app;
}

/**
 * `splynx:sync-users` (seed 000's artisan command): the same service the splynx-sync app runs, in this process.
 * A real run goes through the run lifecycle (claim, run events with trigger `cli`); `--dry-run` only fetches and
 * compares, writes nothing and emits nothing.
 */
export async function splynxSyncUsers(
  config: AppConfig,
  opts: { dryRun: boolean; limit?: number },
): Promise<RunOutcome> {
  const app = await context(config);
  try {
    const params = customerSyncParams({ ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
    if (opts.dryRun) {
      try {
        return { status: 'completed', stats: await app.get(CustomerSyncService).run({ ...params, dryRun: true }) };
      } catch (err) {
        return { status: 'failed', stats: statsOf(err), error: classifyError(err) };
      }
    }
    const now = new Date();
    const tick: SyncRequestedPayload = {
      runId: randomUUID(),
      domain: 'splynx',
      job: 'customers',
      companyId: 1,
      trigger: 'cli',
      scheduledFor: now.toISOString(),
      deadline: new Date(now.getTime() + 86400000).toISOString(),
      params,
    };
    return await app.get(RunExecutor).execute(tick);
  } finally {
    await app.close();
  }
}
