import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { declareJob } from './job-declaration';

/** The time limit of `reseller.usage` (seed 004's job timeout). */
export const RESELLER_USAGE_TIME_LIMIT_MS = 600_000;

/** The params of `reseller.usage`: none in a schedule's tick. */
export class ResellerUsageParams {
  /**
   * A shorter budget than the job's time limit (a manual run, the tests): at its end what was fetched is saved, the
   * rest is counted as not reached, and the run fails as `timeout`.
   */
  @IsOptional() @IsInt() @Min(100) @Max(RESELLER_USAGE_TIME_LIMIT_MS) timeLimitMs?: number;
}

/**
 * seed 004: every active reseller config's traffic from its panel, every N minutes (N from
 * `reseller.usage_sync_interval_minutes`). The seed's uniqueness window is the lease (300 s); its timeout is the time
 * limit (600 s); its "2 attempts" are a first try and one retry.
 */
export const RESELLER_USAGE = declareJob({
  domain: 'usage',
  job: 'reseller.usage',
  description:
    "every active reseller config's traffic from its VPN panel into reseller_configs.usage_bytes (a hard failure keeps the previous usage)",
  leaseMs: 300_000,
  timeLimitMs: RESELLER_USAGE_TIME_LIMIT_MS,
  retries: 1,
  params: ResellerUsageParams,
});
