import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { DOMAINS, Domain } from './topics';
import { envelope } from './envelope';
import { SyncRequestedPayload, TRIGGERS, Trigger } from './sync-requested';
import { Topic } from './topics';

export class RunStats {
  @IsInt() @Min(0) fetched = 0;
  @IsInt() @Min(0) created = 0;
  @IsInt() @Min(0) updated = 0;
  @IsInt() @Min(0) unchanged = 0;
  @IsInt() @Min(0) skipped = 0;
  @IsInt() @Min(0) failed = 0;
  /** Rows marked inactive because the upstream no longer has them (domains that mirror a full list). */
  @IsOptional() @IsInt() @Min(0) deactivated?: number;
  /** Robaws customers: marked deleted_upstream by a complete full pull (never deleted). */
  @IsOptional() @IsInt() @Min(0) deletedUpstream?: number;
  /** Robaws customers written with a phone number that could not be normalised (kept as given). */
  @IsOptional() @IsInt() @Min(0) invalidPhones?: number;
  /** Robaws customers written with a VAT number the VAT check rejects (kept, flagged). */
  @IsOptional() @IsInt() @Min(0) invalidVat?: number;
  /** Robaws customers whose local edit was sent to Robaws. */
  @IsOptional() @IsInt() @Min(0) pushed?: number;
  /** Robaws customers not pushed because Robaws changed an edited field since the edit's base version. */
  @IsOptional() @IsInt() @Min(0) conflicts?: number;
  /** The loyalty-club export: rounds (one request for every table) this run made. */
  @IsOptional() @IsInt() @Min(0) rounds?: number;
  /** Tables of the loyalty-club export that still had rows when the run stopped at its round limit (the next run goes on). */
  @IsOptional() @IsInt() @Min(0) tablesWithMore?: number;
  /** Per table of a multi-table sync (the loyalty-club export): its own fetched, created, updated, unchanged, failed. */
  @IsOptional() @IsObject() tables?: Record<string, TableStats>;
  /** Work a run stopped at its time limit before reaching (reseller configs not read); the next run does it. */
  @IsOptional() @IsInt() @Min(0) notReached?: number;
  /** Per panel type of the usage sync (eylandoo, marzban, marzneshin, 3x-ui): its own counts. */
  @IsOptional() @IsObject() panelTypes?: Record<string, PanelTypeStats>;
}

/** One panel type's counts in a `reseller.usage` run's stats. */
export interface PanelTypeStats {
  /** Configs read (or skipped) this run: updated + unchanged + hardFailures + skipped. */
  processed: number;
  updated: number;
  unchanged: number;
  /** Reads that failed (HTTP, network, credentials, unknown user, an open circuit): the previous usage is kept. */
  hardFailures: number;
  /** Configs not read (an empty username). */
  skipped: number;
  /** Configs the run did not reach before its time limit. */
  notReached: number;
}

/** One table's counts in a multi-table run's stats. */
export interface TableStats {
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
}

export const ERROR_ORIGINS = ['source', 'destination', 'config', 'internal'] as const;
export type ErrorOrigin = (typeof ERROR_ORIGINS)[number];

export class RunError {
  @IsString() code: string;
  @IsString() message: string;
  @IsBoolean() retriable: boolean;
  @IsIn(ERROR_ORIGINS) origin: ErrorOrigin;
}

/** At most this many warnings on one run event; the run library folds the rest into a last "… and N more" entry. */
export const MAX_RUN_WARNINGS = 50;
/** The longest warning a run event carries. */
export const MAX_RUN_WARNING_LENGTH = 1000;

export const SKIP_REASONS = ['overlap', 'stale', 'paused', 'missed'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * Why another worker took a run over: `claim_expired`, its worker stopped renewing its claim (killed, OOM, node lost);
 * `handed_over`, its worker was stopping and handed the run over (SIGTERM past the grace period, INTERRUPTED).
 */
export const TAKEOVER_REASONS = ['claim_expired', 'handed_over'] as const;
export type TakeoverReason = (typeof TAKEOVER_REASONS)[number];

/** What an operator reads for each takeover reason (dashboard, runbook). */
export const TAKEOVER_REASON_TEXT: Record<TakeoverReason, string> = {
  claim_expired: 'worker stopped renewing its claim',
  handed_over: 'handed over at shutdown',
};

/** The attempt of a run that was taken over: the events of attempt n supersede those of earlier attempts. */
export interface RunTakeover {
  /** 2 for the first takeover, and so on. */
  attempt: number;
  takenOverAt: Date;
  reason: TakeoverReason;
}

/** Payload of `sync.run.{started,completed,failed,skipped}.v1`. */
export class RunEventPayload {
  @IsUUID() runId: string;
  @IsIn(DOMAINS) domain: Domain;
  @IsString() job: string;
  @IsInt() @Min(1) companyId: number;
  @IsOptional() @IsString() scheduleId?: string;
  @IsIn(TRIGGERS) trigger: Trigger;
  @IsOptional() @IsISO8601({ strict: true }) scheduledFor?: string;
  @IsISO8601({ strict: true }) startedAt: string;
  @IsOptional() @IsISO8601({ strict: true }) finishedAt?: string;
  @IsOptional() @IsInt() @Min(0) durationMs?: number;
  @ValidateNested() @Type(() => RunStats) stats: RunStats;
  @IsOptional() @ValidateNested() @Type(() => RunError) error?: RunError;
  @IsOptional() @IsIn(SKIP_REASONS) skipReason?: SkipReason;
  /**
   * What a completed run wants an operator to act on before it becomes a failure (a refresh token expiring soon, say).
   * Only `completed` events carry it (a failed run has its error); absent when there is none, so older events stay valid.
   */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_RUN_WARNINGS)
  @IsString({ each: true })
  @MaxLength(MAX_RUN_WARNING_LENGTH, { each: true })
  warnings?: string[];
  /**
   * Which attempt of the run sent this event: absent for the first (older events stay valid), 2 and up once another
   * worker took the run over. A later attempt's events supersede an earlier attempt's, its terminal event too.
   */
  @IsOptional() @IsInt() @Min(1) attempt?: number;
  /** When the run was last taken over (events of a taken-over attempt only). */
  @IsOptional() @IsISO8601({ strict: true }) takenOverAt?: string;
  /** Why the run was last taken over (events of a taken-over attempt only). */
  @IsOptional() @IsIn(TAKEOVER_REASONS) takeoverReason?: TakeoverReason;
}

export type RunStatus = 'requested' | 'running' | 'completed' | 'failed' | 'skipped';

/** What a run event says beyond its tick. */
export interface RunEventFields {
  startedAt: Date;
  finishedAt?: Date;
  stats?: RunStats;
  error?: RunError;
  skipReason?: SkipReason;
  /** Put on `completed` events only, and only when there is at least one. */
  warnings?: string[];
  /** Set when this attempt took the run over from another worker. */
  takeover?: RunTakeover;
}

/** A run event for a tick, keyed by run id (DESIGN.md section 3). */
export function runEventMessage(
  topic: Topic,
  tick: SyncRequestedPayload,
  fields: RunEventFields,
): { key: string; value: unknown } {
  const payload: RunEventPayload = {
    runId: tick.runId,
    domain: tick.domain,
    job: tick.job,
    companyId: tick.companyId,
    ...(tick.scheduleId ? { scheduleId: tick.scheduleId } : {}),
    trigger: tick.trigger,
    scheduledFor: tick.scheduledFor,
    startedAt: fields.startedAt.toISOString(),
    ...(fields.finishedAt
      ? {
          finishedAt: fields.finishedAt.toISOString(),
          durationMs: fields.finishedAt.getTime() - fields.startedAt.getTime(),
        }
      : {}),
    stats: { ...new RunStats(), ...fields.stats },
    ...(fields.error ? { error: fields.error } : {}),
    ...(fields.skipReason ? { skipReason: fields.skipReason } : {}),
    ...(topic === Topic.RunCompleted && fields.warnings?.length ? { warnings: fields.warnings } : {}),
    ...(fields.takeover
      ? {
          attempt: fields.takeover.attempt,
          takenOverAt: fields.takeover.takenOverAt.toISOString(),
          takeoverReason: fields.takeover.reason,
        }
      : {}),
  };
  return { key: tick.runId, value: envelope(topic.replace(/\.v1$/, ''), payload, tick.runId) };
}
