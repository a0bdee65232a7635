import { USAGE_LIMIT_THRESHOLDS, UsageLimitThreshold } from '@sync-hub/contracts';

/** usage / limit × 100 with two decimals; null without a limit (null or 0: unlimited). */
export function percentOfLimit(usage: number, limit: number | null): number | null {
  if (!limit || limit <= 0) return null;
  return Math.round((usage / limit) * 10_000) / 100;
}

/** The highest threshold the usage has reached (0, 80 or 100): what `limit_alert_percent` stores after a sync. */
export function limitLevel(usage: number, limit: number | null): number {
  if (!limit || limit <= 0) return 0;
  let level = 0;
  // Integer arithmetic: 80 % of a limit is reached when usage × 100 ≥ limit × 80, with no rounding at the edge.
  for (const threshold of USAGE_LIMIT_THRESHOLDS) if (usage * 100 >= limit * threshold) level = threshold;
  return level;
}

/**
 * The thresholds crossed upwards since the level last announced: each once, in order (a jump from 50 % to 120 %
 * crosses 80 and 100). A level that went down (a panel reset, a raised limit) announces nothing and lets the
 * thresholds above it be crossed again.
 */
export function crossedThresholds(announced: number, level: number): UsageLimitThreshold[] {
  return USAGE_LIMIT_THRESHOLDS.filter((t) => t > announced && t <= level);
}
