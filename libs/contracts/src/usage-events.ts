import { IsIn, IsInt, IsNumber, IsOptional, Min } from 'class-validator';
import { envelope, EventEnvelope } from './envelope';
import { Topic } from './topics';

/** The shares of a traffic limit announced on `usage.limit.crossed.v1`. */
export const USAGE_LIMIT_THRESHOLDS = [80, 100] as const;
export type UsageLimitThreshold = (typeof USAGE_LIMIT_THRESHOLDS)[number];

/**
 * Payload of `usage.config.updated.v1` (keyed by config id): a reseller config whose usage changed in a sync, in
 * bytes. `delta` is negative after a panel-side reset. `limit` and `percent` are null for a config without a limit.
 */
export class UsageConfigUpdatedPayload {
  @IsInt() @Min(1) configId: number;
  @IsInt() @Min(1) resellerId: number;
  @IsInt() @Min(0) previous: number;
  @IsInt() @Min(0) current: number;
  @IsInt() delta: number;
  @IsOptional() @IsInt() @Min(1) limit: number | null;
  /** current / limit × 100, two decimals. */
  @IsOptional() @IsNumber() @Min(0) percent: number | null;
}

/**
 * Payload of `usage.limit.crossed.v1` (keyed by config id): a config's usage reached 80 % or 100 % of its traffic
 * limit. Sent once per crossing: again only after the usage dropped below the threshold (a panel-side reset).
 */
export class UsageLimitCrossedPayload {
  @IsInt() @Min(1) configId: number;
  @IsInt() @Min(1) resellerId: number;
  @IsIn(USAGE_LIMIT_THRESHOLDS) threshold: UsageLimitThreshold;
  @IsInt() @Min(0) usage: number;
  @IsInt() @Min(1) limit: number;
}

export interface UsageEventMessage<T> {
  topic: Topic;
  key: string;
  value: EventEnvelope<T>;
}

/** A usage change, keyed by the config's id (one config's changes stay in order on one partition). */
export function usageConfigUpdatedMessage(
  payload: UsageConfigUpdatedPayload,
  runId?: string,
  occurredAt?: Date,
): UsageEventMessage<UsageConfigUpdatedPayload> {
  return {
    topic: Topic.UsageConfigUpdated,
    key: String(payload.configId),
    value: envelope('usage.config.updated', payload, runId, occurredAt),
  };
}

/** A limit crossing, keyed by the config's id. */
export function usageLimitCrossedMessage(
  payload: UsageLimitCrossedPayload,
  runId?: string,
  occurredAt?: Date,
): UsageEventMessage<UsageLimitCrossedPayload> {
  return {
    topic: Topic.UsageLimitCrossed,
    key: String(payload.configId),
    value: envelope('usage.limit.crossed', payload, runId, occurredAt),
  };
}
