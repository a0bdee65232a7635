import { IsBoolean, IsInt, IsOptional, Min } from 'class-validator';
import { declareJob } from './job-declaration';

export class SplynxCustomersParams {
  /** Stop after this many customers (and deactivate nothing). */
  @IsOptional() @IsInt() @Min(1) limit?: number;
  /** Fetch and count what would change; write nothing. */
  @IsOptional() @IsBoolean() dryRun?: boolean;
}

/** seed 000: Splynx customers into `splynx_customers`, hourly. */
export const SPLYNX_CUSTOMERS = declareJob({
  domain: 'splynx',
  job: 'customers',
  description: 'Splynx customers into splynx_customers; customers gone from Splynx are marked inactive',
  leaseMs: 60_000,
  timeLimitMs: 3_600_000,
  retries: 2,
  params: SplynxCustomersParams,
});
