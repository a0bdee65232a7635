import { Injectable } from '@nestjs/common';
import { ClassifiedError, RESELLER_USAGE, ResellerUsageParams, RunStats } from '@sync-hub/contracts';
import { attachStats, JobContext, JobHandler, SyncJob } from '@sync-hub/runs';
import { UsageSyncService } from './usage-sync.service';

/**
 * What the job keeps of its time limit to save what it read and report: reading stops this long before the run
 * library would stop the run, so the failure carries the run's stats and its own code.
 */
export const SAVE_MARGIN_MS = 30_000;

/** The run reached its time limit: what was read is saved; the configs not reached wait for the next run. */
export class UsageRunTimeoutError extends ClassifiedError {
  /** The issue's word for it (seed 004's job timeout). */
  readonly code = 'timeout';
  readonly origin = 'source' as const;
  readonly retriable = false;
  constructor(limitMs: number, notReached: number, total: number) {
    super(
      `usage/reseller.usage reached its time limit of ${limitMs / 1000} s: ${notReached} of ${total} configs not reached (what was read is saved)`,
    );
    this.name = 'UsageRunTimeoutError';
  }
}

/** Every panel the run read failed (unreachable, 5xx, refused credentials, circuit open): retried once. */
export class UsagePanelsFailedError extends ClassifiedError {
  readonly code = 'USAGE_PANELS_FAILED';
  readonly origin = 'source' as const;
  readonly retriable = true;
  constructor(panels: number) {
    super(`every panel read failed (${panels} panel${panels === 1 ? '' : 's'}); the stored usage is kept`);
    this.name = 'UsagePanelsFailedError';
  }
}

/** The budget of a run: a manual run's `timeLimitMs`, or the job's time limit less the save margin. */
export function readingBudgetMs(params: ResellerUsageParams): number {
  return params.timeLimitMs ?? RESELLER_USAGE.timeLimitMs - SAVE_MARGIN_MS;
}

/** usage/reseller.usage (seed 004, every N minutes): every active config's usage from its panel. */
@Injectable()
@JobHandler(RESELLER_USAGE)
export class ResellerUsageJob implements SyncJob<ResellerUsageParams> {
  constructor(private readonly usage: UsageSyncService) {}

  async run({ tick, params, signal }: JobContext<ResellerUsageParams>): Promise<RunStats> {
    const budget = readingBudgetMs(params);
    const stop = AbortSignal.any([signal, AbortSignal.timeout(budget)]);
    const report = await this.usage.syncAll({ signal: stop, runId: tick.runId });
    const total = report.stats.fetched + report.stats.failed + report.stats.skipped + report.stats.notReached;
    if (report.timedOut)
      throw attachStats(new UsageRunTimeoutError(budget, report.stats.notReached, total), report.stats);
    if (report.panelsReached > 0 && report.panelsFailed === report.panelsReached)
      throw attachStats(new UsagePanelsFailedError(report.panelsFailed), report.stats);
    return report.stats;
  }
}
