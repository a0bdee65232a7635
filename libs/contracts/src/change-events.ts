import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { envelope, EventEnvelope } from './envelope';
import { Domain, Topic } from './topics';

/**
 * Record-level change events (issue 16): what a sync changed, in business terms, published after the page's
 * transaction commits, through the outbox. One compacted topic per kind of record, keyed by the record's upstream id,
 * so a consumer that reads a topic from the beginning gets the latest state of every record.
 */
export const CHANGE_TYPES = ['created', 'updated', 'deactivated'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** The payload of every `*.changed.v1` topic, inside the usual envelope. */
export class ChangeEventPayload<R extends object = Record<string, unknown>> {
  @IsIn(CHANGE_TYPES)
  changeType: ChangeType;

  /** The record's upstream id, as text: the message key. */
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  id: string;

  /** The run that wrote the change. */
  @IsUUID()
  runId: string;

  /** When the change was committed to the hub's database. */
  @IsISO8601({ strict: true })
  occurredAt: string;

  /** The record's fields that differ from the stored version before (every field when created; `active` when deactivated). */
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  changedFields: string[];

  /** The stored record after the change, in its API shape. */
  @IsObject()
  record: R;
}

/** Which domain publishes each change-event topic: `CHANGE_EVENTS` switches them per domain. */
export const CHANGE_EVENT_TOPICS: Readonly<Partial<Record<Topic, Domain>>> = {
  [Topic.SplynxCustomerChanged]: 'splynx',
};

export function isChangeEventTopic(topic: string): boolean {
  return topic in CHANGE_EVENT_TOPICS;
}

/** One change event as it goes on the bus: keyed by the record's upstream id, in the envelope (runId beside it). */
export function changeEventMessage<R extends object>(
  topic: Topic,
  change: ChangeEventPayload<R>,
): { topic: Topic; key: string; value: EventEnvelope<ChangeEventPayload<R>> } {
  const type = topic.replace(/\.v\d+$/, '');
  return { topic, key: change.id, value: envelope(type, change, change.runId, new Date(change.occurredAt)) };
}

/**
 * The fields of `after` whose values differ from `before` (compared as JSON values: dates as ISO text), in the order
 * of `fields`. Without `before` (a new record) every field counts as changed.
 */
export function changedFields<R extends object>(
  fields: ReadonlyArray<keyof R & string>,
  after: R,
  before?: R,
): string[] {
  if (!before) return [...fields];
  return fields.filter((f) => !sameValue(after[f], before[f]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return a == null && b == null;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A Splynx customer as `splynx.customer.changed.v1` carries it: the stored row without the upstream's raw record. */
export class SplynxCustomerRecord {
  @IsInt() @Min(1) splynxId: number;
  @IsOptional() @IsString() login: string | null;
  @IsString() name: string;
  @IsOptional() @IsString() email: string | null;
  @IsOptional() @IsString() phone: string | null;
  @IsString() status: string;
  @IsOptional() @IsString() category: string | null;
  @IsOptional() @IsString() billingType: string | null;
  @IsOptional() @IsInt() partnerId: number | null;
  @IsOptional() @IsInt() locationId: number | null;
  /** YYYY-MM-DD. */
  @IsOptional() @Matches(/^\d{4}-\d{2}-\d{2}$/) dateAdd: string | null;
  /** Splynx's `last_update`, read in SPLYNX_TIMEZONE, as an ISO 8601 instant (UTC). */
  @IsOptional() @IsISO8601({ strict: true }) lastUpdate: string | null;
  /** false once a complete full sync no longer finds the customer in Splynx (a customer is never deleted). */
  @IsBoolean() active: boolean;
}

/** The fields `changedFields` is computed over, in this order. */
export const SPLYNX_CUSTOMER_RECORD_FIELDS: ReadonlyArray<keyof SplynxCustomerRecord> = [
  'splynxId',
  'login',
  'name',
  'email',
  'phone',
  'status',
  'category',
  'billingType',
  'partnerId',
  'locationId',
  'dateAdd',
  'lastUpdate',
  'active',
];

/** The payload of `splynx.customer.changed.v1`. */
export class SplynxCustomerChangedPayload extends ChangeEventPayload<SplynxCustomerRecord> {
  @ValidateNested()
  @Type(() => SplynxCustomerRecord)
  declare record: SplynxCustomerRecord;
}
