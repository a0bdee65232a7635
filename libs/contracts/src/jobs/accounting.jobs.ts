import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { declareJob } from './job-declaration';

/**
 * Daily, per company (issue 9): refreshes QuickBooks tokens that have not been refreshed for a week (so a refresh token
 * never lapses through disuse), proves each connection with one API call, warns when a refresh token expires within 14
 * days, and fails as a `config` error when a connection needs a person (reauth_required).
 */
export const ACCOUNTING_CONNECTIONS_CHECK = declareJob({
  domain: 'accounting',
  job: 'accounting.connections.check',
  description:
    "checks the company's QuickBooks and DevPos connections: refreshes idle tokens, warns before a refresh token lapses",
  leaseMs: 60_000,
  timeLimitMs: 15 * 60_000,
  retries: 2,
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The params of the document jobs (seed 001): a schedule's `date_range_days`, or a manual run's `from`/`to`. */
export class AccountingDocumentsParams {
  /** today − dateRangeDays … today, in the company's zone (default 30, seed 001's example). */
  @IsOptional() @IsInt() @Min(0) @Max(366) dateRangeDays?: number;
  /** With `to`: this range of the company's local dates instead. */
  @IsOptional() @IsString() @Matches(DATE, { message: 'from must be a date (YYYY-MM-DD)' }) from?: string;
  @IsOptional() @IsString() @Matches(DATE, { message: 'to must be a date (YYYY-MM-DD)' }) to?: string;
  /** Read DevPos and say what would be created, updated or skipped; write nothing anywhere. */
  @IsOptional() @IsBoolean() dryRun?: boolean;
  /** Only these documents of the range (a retry of one document); the rest are not touched. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  eics?: string[];
}

function documentJob(job: 'sales' | 'bills' | 'full', description: string) {
  return declareJob({
    domain: 'accounting',
    job,
    description,
    leaseMs: 120_000,
    // sales, bills and full write the same documents: one of them at a time per company.
    leaseGroup: 'documents',
    timeLimitMs: 2 * 3_600_000,
    retries: 2,
    params: AccountingDocumentsParams,
  });
}

/** seed 001: sales e-invoices → QuickBooks invoices (credit notes → credit memos). */
export const ACCOUNTING_SALES = documentJob(
  'sales',
  "DevPos sales e-invoices of the company's range into QuickBooks invoices and credit memos",
);
/** seed 001: purchase e-invoices (and self-invoices) → QuickBooks bills (credit notes → vendor credits). */
export const ACCOUNTING_BILLS = documentJob(
  'bills',
  "DevPos purchase e-invoices and self-invoices of the company's range into QuickBooks bills and vendor credits",
);
/** seed 001: both, sales first. */
export const ACCOUNTING_FULL = documentJob('full', "sales, then bills, of the company's range");
