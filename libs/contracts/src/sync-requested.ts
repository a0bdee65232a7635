import {
  IsIn,
  IsISO8601,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Min,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { v5 as uuidv5 } from 'uuid';
import { envelope, EventEnvelope } from './envelope';
import { DOMAINS, Domain, JOBS_BY_DOMAIN, requestedTopic, jobKey, Topic } from './topics';

export const TRIGGERS = ['schedule', 'manual', 'webhook', 'cli'] as const;
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'allow'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export type Trigger = (typeof TRIGGERS)[number];

@ValidatorConstraint({ name: 'jobOfDomain' })
class JobBelongsToDomain implements ValidatorConstraintInterface {
  validate(job: unknown, args: ValidationArguments): boolean {
    const domain = (args.object as SyncRequestedPayload).domain;
    return typeof job === 'string' && (JOBS_BY_DOMAIN[domain]?.includes(job) ?? false);
  }
  defaultMessage(args: ValidationArguments): string {
    const domain = (args.object as SyncRequestedPayload).domain;
    return `job must be one of ${(JOBS_BY_DOMAIN[domain] ?? []).join(', ') || '(unknown domain)'}`;
  }
}

/** Payload of `sync.<domain>.requested.v1`: one tick of one job. */
export class SyncRequestedPayload {
  @IsUUID()
  runId: string;

  @IsIn(DOMAINS)
  domain: Domain;

  @Validate(JobBelongsToDomain)
  job: string;

  @IsInt()
  @Min(1)
  companyId: number;

  @IsOptional()
  @IsString()
  scheduleId?: string;

  @IsIn(TRIGGERS)
  trigger: Trigger;

  @IsISO8601({ strict: true })
  scheduledFor: string;

  /** A tick reached after its deadline is skipped as stale. */
  @IsISO8601({ strict: true })
  deadline: string;

  @IsOptional()
  @IsObject()
  params?: Record<string, unknown>;

  /** What to do when the job's previous run still holds its lease (DESIGN.md section 5); default `skip`. */
  @IsOptional()
  @IsIn(OVERLAP_POLICIES)
  overlapPolicy?: OverlapPolicy;
}

/** A tick as it goes on the bus: its domain's requested topic, keyed by job so one job's ticks stay in order. */
export function tickMessage(tick: SyncRequestedPayload): {
  topic: Topic;
  key: string;
  value: EventEnvelope<SyncRequestedPayload>;
} {
  return {
    topic: requestedTopic(tick.domain),
    key: jobKey(tick.companyId, tick.domain, tick.job),
    value: envelope(`sync.${tick.domain}.requested`, tick, tick.runId),
  };
}

const RUN_ID_NAMESPACE = '5b0c3f4e-8d0a-4c61-9a57-3f1f1d6a9e21';

/** A scheduled tick's run id is derived from (schedule, slot), so a tick published twice is one run. */
export function scheduledRunId(scheduleId: string, scheduledFor: Date): string {
  return uuidv5(`${scheduleId}@${scheduledFor.toISOString()}`, RUN_ID_NAMESPACE);
}
