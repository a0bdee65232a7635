import { Injectable } from '@nestjs/common';
import {
  ACCOUNTING_BILLS,
  ACCOUNTING_FULL,
  ACCOUNTING_SALES,
  AccountingDocumentsParams,
  ConfigurationError,
  RunStats,
} from '@sync-hub/contracts';
import { JobContext, JobHandler, SyncJob } from '@sync-hub/runs';
import { CompanyProjectionService, UNKNOWN_COMPANY_WAIT_MS } from '../companies/company-projection.service';
import { companyRange, DateRange, explicitRange } from '../documents/date-range';
import { AccountingJob, DocumentSyncService } from '../documents/document-sync.service';

/** Seed 001's example range when a run names none. */
export const DEFAULT_RANGE_DAYS = 30;

/** The run's range: `from`/`to` when given (both), else today − dateRangeDays … today in the company's zone. */
export async function rangeOf(
  companies: CompanyProjectionService,
  companyId: number,
  params: AccountingDocumentsParams,
  now = new Date(),
): Promise<DateRange> {
  if (params.from !== undefined || params.to !== undefined) {
    if (params.from === undefined || params.to === undefined)
      throw new ConfigurationError('BAD_PARAMS', 'from and to go together: give both, or neither (dateRangeDays)');
    try {
      return explicitRange(params.from, params.to);
    } catch (err) {
      throw new ConfigurationError('BAD_PARAMS', (err as Error).message);
    }
  }
  const company = await companies.find(companyId);
  if (!company) throw new ConfigurationError('COMPANY_UNKNOWN', `company ${companyId} is unknown to accounting-sync`);
  return companyRange(company.timezone, params.dateRangeDays ?? DEFAULT_RANGE_DAYS, now);
}

/**
 * A run for a company this app does not know yet waits for it (up to UNKNOWN_COMPANY_WAIT_MS), then fails
 * COMPANY_UNKNOWN: the tick can beat the company's own event (CompanyProjectionService.awaitKnown).
 */
export async function awaitCompany(
  companies: CompanyProjectionService,
  ctx: Pick<JobContext, 'tick' | 'signal'>,
  waitMs = UNKNOWN_COMPANY_WAIT_MS,
): Promise<void> {
  if (await companies.awaitKnown(ctx.tick.companyId, ctx.signal, waitMs)) return;
  throw new ConfigurationError(
    'COMPANY_UNKNOWN',
    `company ${ctx.tick.companyId} is unknown to accounting-sync (no scheduler.company.changed.v1 for it within ${waitMs / 1000} s)`,
  );
}

/** Decorated so its constructor's parameter types are emitted; the three jobs inherit them. */
@Injectable()
abstract class DocumentJob implements SyncJob<AccountingDocumentsParams> {
  protected abstract readonly job: AccountingJob;

  constructor(
    private readonly sync: DocumentSyncService,
    private readonly companies: CompanyProjectionService,
  ) {}

  async run(ctx: JobContext<AccountingDocumentsParams>): Promise<RunStats> {
    const companyId = ctx.tick.companyId;
    await awaitCompany(this.companies, ctx);
    const range = await rangeOf(this.companies, companyId, ctx.params);
    const { stats, plan } = await this.sync.sync(
      companyId,
      { job: this.job, range, dryRun: ctx.params.dryRun, eics: ctx.params.eics, runId: ctx.tick.runId },
      { signal: ctx.signal, warn: ctx.warn },
    );
    if (ctx.params.dryRun)
      ctx.warn(
        `dry run of ${range.from} … ${range.to}: ${plan.filter((p) => p.action === 'create').length} to create, ${plan.filter((p) => p.action === 'update').length} to update, ${plan.filter((p) => p.action === 'skip').length} to skip; nothing was written`,
      );
    return stats;
  }
}

@Injectable()
@JobHandler(ACCOUNTING_SALES)
export class SalesJob extends DocumentJob {
  protected readonly job = 'sales' as const;
}

@Injectable()
@JobHandler(ACCOUNTING_BILLS)
export class BillsJob extends DocumentJob {
  protected readonly job = 'bills' as const;
}

@Injectable()
@JobHandler(ACCOUNTING_FULL)
export class FullJob extends DocumentJob {
  protected readonly job = 'full' as const;
}
