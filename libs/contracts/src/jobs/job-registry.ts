import { DOMAINS, Domain } from '../topics';
import { declareJob, JobDeclaration, jobParamNames } from './job-declaration';
import { ACCOUNTING_BILLS, ACCOUNTING_CONNECTIONS_CHECK, ACCOUNTING_FULL, ACCOUNTING_SALES } from './accounting.jobs';
import {
  CP_EXPORT,
  CP_RECONCILE,
  CP_VISIT,
  ROBAWS_CUSTOMERS_FULL,
  ROBAWS_CUSTOMERS_INCREMENTAL,
  ROBAWS_CUSTOMERS_PUSH,
} from './crm.jobs';
import { SPLYNX_CUSTOMERS, SPLYNX_CUSTOMERS_FULL } from './splynx.jobs';
import { RESELLER_USAGE } from './usage.jobs';

/** `ping` in every domain: no upstream work, `completed` at once; the benchmarks' synthetic check of the pipeline. */
export const PING_JOBS: readonly JobDeclaration[] = DOMAINS.map((domain) =>
  declareJob({
    domain,
    job: 'ping',
    description: 'no upstream work: completes at once (a check of the whole pipeline)',
    leaseMs: 60_000,
    timeLimitMs: 60_000,
    retries: 0,
  }),
);

/**
 * The job registry: every job this version can run. A new job is a handler class in its sync app, its entry here,
 * and its migration (docs/architecture.md). Jobs the design names but no entry declares yet fail as
 * JOB_NOT_SUPPORTED, and their schedules stay disabled.
 */
export const JOB_REGISTRY: readonly JobDeclaration[] = [
  SPLYNX_CUSTOMERS,
  SPLYNX_CUSTOMERS_FULL,
  ACCOUNTING_SALES,
  ACCOUNTING_BILLS,
  ACCOUNTING_FULL,
  ACCOUNTING_CONNECTIONS_CHECK,
  ROBAWS_CUSTOMERS_INCREMENTAL,
  ROBAWS_CUSTOMERS_FULL,
  ROBAWS_CUSTOMERS_PUSH,
  CP_EXPORT,
  CP_RECONCILE,
  CP_VISIT,
  RESELLER_USAGE,
  ...PING_JOBS,
];

export function findJob(domain: string, job: string): JobDeclaration | undefined {
  return JOB_REGISTRY.find((d) => d.domain === domain && d.job === job);
}

export function registeredJobs(domain?: Domain): readonly JobDeclaration[] {
  return domain ? JOB_REGISTRY.filter((d) => d.domain === domain) : JOB_REGISTRY;
}

/** `splynx/customers, splynx/ping, …`: for errors that name what is known. */
export function registeredJobNames(): string {
  return JOB_REGISTRY.map((d) => `${d.domain}/${d.job}`).join(', ');
}

/** Why a schedule of a job without a handler stays disabled (the scheduler stores it as `paused_reason`). */
export function notRegisteredReason(domain: string, job: string): string {
  return `${domain}/${job} is not available in this version yet (no handler is registered for it); it can be enabled once it is`;
}

/**
 * The params a schedule's tick carries for its job: a schedule's `date_range_days` becomes `dateRangeDays` only for a
 * job whose params take it (the accounting jobs, seed 001); other jobs would refuse it as an unknown param.
 */
export function scheduledParams(
  domain: string,
  job: string,
  schedule: { dateRangeDays: number | null },
): Record<string, unknown> | undefined {
  const declaration = findJob(domain, job);
  if (!schedule.dateRangeDays || !declaration || !jobParamNames(declaration).includes('dateRangeDays'))
    return undefined;
  return { dateRangeDays: schedule.dateRangeDays };
}
