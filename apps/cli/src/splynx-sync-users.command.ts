import { randomUUID } from 'node:crypto';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import { SPLYNX_CUSTOMERS, SPLYNX_CUSTOMERS_FULL, SyncRequestedPayload } from '@sync-hub/contracts';
import { PlatformModule } from '@sync-hub/platform';
import { classifyError, RunExecutor, RunOutcome, statsOf } from '@sync-hub/runs';
import { Logger } from 'nestjs-pino';
import { CustomerSyncService, SPLYNX_SYNC_FEATURES } from '../../splynx-sync/src';

async function context(config: AppConfig): Promise<INestApplicationContext> {
  @Module({ imports: [PlatformModule.forConfig(config), ...SPLYNX_SYNC_FEATURES] })
  class SplynxCliModule {}
  const app = await NestFactory.createApplicationContext(SplynxCliModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  return app;
}

/**
 * `splynx:sync-users` (seed 000's artisan command, alias `sync:splynx-users`): a job the splynx-sync app runs, in this
 * process: the incremental `customers`, or with `--full` the `customers.full` that also deactivates vanished customers.
 * A real run goes through the run lifecycle (claim, run events with trigger `cli`, the job's registry entry);
 * `--dry-run` only fetches and compares, writes nothing and emits nothing.
 */
export async function splynxSyncUsers(
  config: AppConfig,
  opts: { dryRun: boolean; limit?: number; full?: boolean },
): Promise<RunOutcome> {
  const app = await context(config);
  const job = opts.full ? SPLYNX_CUSTOMERS_FULL : SPLYNX_CUSTOMERS;
  try {
    const params = opts.limit !== undefined ? { limit: opts.limit } : {};
    if (opts.dryRun) {
      try {
        const mode = opts.full ? 'full' : 'incremental';
        return {
          status: 'completed',
          stats: await app.get(CustomerSyncService).run({ ...params, mode, dryRun: true }),
        };
      } catch (err) {
        return { status: 'failed', stats: statsOf(err), error: classifyError(err) };
      }
    }
    const now = new Date();
    const tick: SyncRequestedPayload = {
      runId: randomUUID(),
      domain: job.domain,
      job: job.job,
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
