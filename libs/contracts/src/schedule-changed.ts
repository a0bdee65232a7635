import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { FREQUENCIES, Frequency } from './api/schedule-api.dto';
import { envelope, EventEnvelope } from './envelope';
import { OVERLAP_POLICIES, OverlapPolicy } from './sync-requested';
import { DOMAINS, Domain, Topic } from './topics';

/**
 * Payload of `scheduler.schedule.changed.v1` (compacted, keyed by schedule id): the whole schedule row after a change,
 * so the latest message of a key is the schedule. Its deletion is a tombstone (a null value) under the same key.
 */
export class ScheduleChangedPayload {
  @IsInt() @Min(1) id: number;
  @IsInt() @Min(1) companyId: number;
  @IsIn(DOMAINS) domain: Domain;
  @IsString() @MinLength(1) @MaxLength(64) jobType: string;
  @IsIn(FREQUENCIES) frequency: Frequency;
  @IsOptional() @IsInt() @Min(1) intervalMinutes: number | null;
  /** When set, `every_minutes` takes its interval from this setting (the usage schedule). */
  @IsOptional() @IsString() intervalSetting: string | null;
  @IsInt() @Min(0) @Max(59) minute: number;
  @IsOptional() @IsInt() @Min(0) @Max(23) hourOfDay: number | null;
  @IsOptional() @IsInt() @Min(0) @Max(6) dayOfWeek: number | null;
  @IsOptional() @IsInt() @Min(1) @Max(31) dayOfMonth: number | null;
  @IsString() timezone: string;
  @IsOptional() @IsInt() @Min(1) dateRangeDays: number | null;
  @IsBoolean() enabled: boolean;
  @IsOptional() @IsString() pausedReason: string | null;
  @IsIn(OVERLAP_POLICIES) overlapPolicy: OverlapPolicy;
  @IsInt() @Min(0) catchupWindowS: number;
  @IsOptional() @IsISO8601({ strict: true }) lastRunAt: string | null;
  @IsOptional() @IsISO8601({ strict: true }) nextRunAt: string | null;
  @IsISO8601({ strict: true }) createdAt: string;
  @IsISO8601({ strict: true }) updatedAt: string;
}

/** A schedule's key on `scheduler.schedule.changed.v1`. */
export function scheduleKey(scheduleId: number): string {
  return String(scheduleId);
}

/** The message for a created or changed schedule: its whole state, keyed by its id. */
export function scheduleChangedMessage(schedule: ScheduleChangedPayload): {
  topic: Topic;
  key: string;
  value: EventEnvelope<ScheduleChangedPayload>;
} {
  return {
    topic: Topic.ScheduleChanged,
    key: scheduleKey(schedule.id),
    value: envelope('scheduler.schedule.changed', schedule),
  };
}

/** The message for a deleted schedule: a tombstone, so compaction drops the key and projections delete it. */
export function scheduleDeletedMessage(scheduleId: number): { topic: Topic; key: string; value: null } {
  return { topic: Topic.ScheduleChanged, key: scheduleKey(scheduleId), value: null };
}
