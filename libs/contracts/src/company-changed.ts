import { IsBoolean, IsInt, IsISO8601, IsString, MaxLength, Min, MinLength } from 'class-validator';
import { envelope, EventEnvelope } from './envelope';
import { Topic } from './topics';

/**
 * Payload of `scheduler.company.changed.v1` (compacted, keyed by company id): the whole company row after a change,
 * so the latest message of a key is the company. Companies are deactivated (`active: false`), never deleted.
 */
export class CompanyChangedPayload {
  @IsInt() @Min(1) id: number;
  @IsString() @MinLength(1) @MaxLength(255) name: string;
  /** IANA zone; the company's local dates (accounting ranges) are in it. */
  @IsString() @MinLength(1) @MaxLength(64) timezone: string;
  @IsBoolean() active: boolean;
  @IsISO8601({ strict: true }) createdAt: string;
  @IsISO8601({ strict: true }) updatedAt: string;
}

/** A company's key on `scheduler.company.changed.v1`. */
export function companyKey(companyId: number): string {
  return String(companyId);
}

/** The message for a created or changed company: its whole state, keyed by its id. */
export function companyChangedMessage(company: CompanyChangedPayload): {
  topic: Topic;
  key: string;
  value: EventEnvelope<CompanyChangedPayload>;
} {
  return {
    topic: Topic.CompanyChanged,
    key: companyKey(company.id),
    value: envelope('scheduler.company.changed', company),
  };
}
