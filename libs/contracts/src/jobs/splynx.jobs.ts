import { IsBoolean, IsInt, IsOptional, Min } from 'class-validator';
import { declareJob } from './job-declaration';

export class SplynxCustomersParams {
  /** Stop after this many customers (moves no watermark and deactivates nothing). */
  @IsOptional() @IsInt() @Min(1) limit?: number;
  /** Fetch and count what would change; write nothing. */
  @IsOptional() @IsBoolean() dryRun?: boolean;
}

/**
 * Both Splynx customer jobs write `splynx_customers` and its watermark: one at a time, so a full run's deactivation
 * never meets an incremental run's writes.
 */
const SPLYNX_CUSTOMERS_LEASE_GROUP = 'splynx.customers';

/**
 * seed 000, hourly: the customers Splynx changed since the watermark (their `last_update` ≥ the watermark minus
 * SPLYNX_INCREMENTAL_OVERLAP_SECONDS), into `splynx_customers`. Never deactivates: only a full run sees who vanished.
 */
export const SPLYNX_CUSTOMERS = declareJob({
  domain: 'splynx',
  job: 'customers',
  description: 'Splynx customers changed since the watermark into splynx_customers (incremental; deactivates nothing)',
  leaseMs: 60_000,
  leaseGroup: SPLYNX_CUSTOMERS_LEASE_GROUP,
  timeLimitMs: 3_600_000,
  retries: 2,
  params: SplynxCustomersParams,
});

/** Daily 02:30: every Splynx customer; the only run that marks customers gone from Splynx inactive. */
export const SPLYNX_CUSTOMERS_FULL = declareJob({
  domain: 'splynx',
  job: 'customers.full',
  description: 'every Splynx customer into splynx_customers; customers gone from Splynx are marked inactive',
  leaseMs: 60_000,
  leaseGroup: SPLYNX_CUSTOMERS_LEASE_GROUP,
  timeLimitMs: 4 * 3_600_000,
  retries: 2,
  params: SplynxCustomersParams,
});
