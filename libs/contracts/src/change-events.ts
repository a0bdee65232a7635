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

  /**
   * The run that wrote the change; null for one no run wrote (a Robaws webhook's delivery, applied as it comes, or a
   * sync called outside the run lifecycle).
   */
  @IsOptional()
  @IsUUID()
  runId: string | null;

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
  [Topic.RobawsCustomerChanged]: 'crm',
  [Topic.LoyaltyClientsChanged]: 'crm',
  [Topic.LoyaltyClientAbonnementsChanged]: 'crm',
  [Topic.LoyaltyHistoriesChanged]: 'crm',
  [Topic.LoyaltyPromotionPassOrdersChanged]: 'crm',
  [Topic.LoyaltyPromotionPassVendusChanged]: 'crm',
  [Topic.LoyaltyPartnersChanged]: 'crm',
  [Topic.LoyaltyPromotionsChanged]: 'crm',
  [Topic.AccountingDocumentChanged]: 'accounting',
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
  return {
    topic,
    key: change.id,
    value: envelope(type, change, change.runId ?? undefined, new Date(change.occurredAt)),
  };
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

/**
 * A Robaws customer as `crm.robaws.customer.changed.v1` carries it: the CRM API's CustomerView (snake_case, ISO-8601
 * UTC) without the hub's own bookkeeping (sync and push times, the pending local edit and conflict).
 */
export class RobawsCustomerRecord {
  @IsInt() @Min(1) robaws_id: number;
  @IsOptional() @IsString() name: string | null;
  @IsOptional() @IsString() role: string | null;
  @IsOptional() @IsString() email: string | null;
  @IsOptional() @IsString() tel: string | null;
  @IsOptional() @IsString() gsm: string | null;
  /** The first valid of tel and gsm, in E.164. */
  @IsOptional() @IsString() phone: string | null;
  @IsOptional() @IsString() website: string | null;
  @IsOptional() @IsString() address_line1: string | null;
  @IsOptional() @IsString() address_line2: string | null;
  @IsOptional() @IsString() postal_code: string | null;
  @IsOptional() @IsString() city: string | null;
  @IsOptional() @IsString() country: string | null;
  @IsOptional() @IsString() vat_number: string | null;
  @IsOptional() @IsBoolean() vat_valid: boolean | null;
  @IsOptional() @IsString() currency: string | null;
  @IsOptional() @IsString() language: string | null;
  @IsBoolean() is_active: boolean;
  /** true once Robaws no longer has the client (the change type is then `deactivated`); a customer is never deleted. */
  @IsBoolean() deleted_upstream: boolean;
  /** Robaws's `updatedAt` of the version stored. */
  @IsOptional() @IsISO8601({ strict: true }) upstream_updated_at: string | null;
}

export const ROBAWS_CUSTOMER_RECORD_FIELDS: ReadonlyArray<keyof RobawsCustomerRecord> = [
  'robaws_id',
  'name',
  'role',
  'email',
  'tel',
  'gsm',
  'phone',
  'website',
  'address_line1',
  'address_line2',
  'postal_code',
  'city',
  'country',
  'vat_number',
  'vat_valid',
  'currency',
  'language',
  'is_active',
  'deleted_upstream',
  'upstream_updated_at',
];

/** The payload of `crm.robaws.customer.changed.v1`. */
export class RobawsCustomerChangedPayload extends ChangeEventPayload<RobawsCustomerRecord> {
  @ValidateNested()
  @Type(() => RobawsCustomerRecord)
  declare record: RobawsCustomerRecord;
}

/** The last error of an accounting document: QuickBooks' code, message and element (and its intuit_tid), or DevPos's. */
export class AccountingDocumentErrorRecord {
  @IsString() code: string;
  @IsString() message: string;
  @IsOptional() @IsString() element: string | null;
  @IsOptional() @IsString() intuit_tid: string | null;
}

/**
 * An accounting document as `accounting.document.changed.v1` carries it: the documents API's DocumentView
 * (snake_case) without its bookkeeping times (`synced_at`, `updated_at`; the event's `occurredAt` says when).
 */
export class AccountingDocumentRecord {
  @IsInt() @Min(1) company_id: number;
  @IsIn(['devpos']) source: 'devpos';
  /** DevPos's id of the document (its EIC). */
  @IsString() @MinLength(1) eic: string;
  @IsOptional() @IsString() document_number: string | null;
  @IsIn(['sales', 'purchase']) type: 'sales' | 'purchase';
  /** The company-local date, YYYY-MM-DD. */
  @Matches(/^\d{4}-\d{2}-\d{2}$/) txn_date: string;
  @IsString() currency: string;
  @IsIn(['pending', 'synced', 'failed', 'skipped']) status: 'pending' | 'synced' | 'failed' | 'skipped';
  @IsString() qbo_entity: string;
  @IsOptional() @IsString() qbo_id: string | null;
  @IsOptional() @IsString() sync_token: string | null;
  @IsInt() @Min(0) generation: number;
  @IsOptional()
  @ValidateNested()
  @Type(() => AccountingDocumentErrorRecord)
  last_error: AccountingDocumentErrorRecord | null;
  @IsOptional() @IsIn(['attached', 'failed', 'none']) attachment_status: 'attached' | 'failed' | 'none' | null;
  @IsOptional() @IsString() attachment_id: string | null;
  @IsOptional() @IsString() attachment_warning: string | null;
}

export const ACCOUNTING_DOCUMENT_RECORD_FIELDS: ReadonlyArray<keyof AccountingDocumentRecord> = [
  'company_id',
  'source',
  'eic',
  'document_number',
  'type',
  'txn_date',
  'currency',
  'status',
  'qbo_entity',
  'qbo_id',
  'sync_token',
  'generation',
  'last_error',
  'attachment_status',
  'attachment_id',
  'attachment_warning',
];

/** The key and `id` of a document's events: `<company_id>:<eic>` (one company's documents never share an EIC). */
export function accountingDocumentKey(companyId: number, eic: string): string {
  return `${companyId}:${eic}`;
}

/** The payload of `accounting.document.changed.v1`. */
export class AccountingDocumentChangedPayload extends ChangeEventPayload<AccountingDocumentRecord> {
  @ValidateNested()
  @Type(() => AccountingDocumentRecord)
  declare record: AccountingDocumentRecord;
}

/**
 * The loyalty-club export's tables (issue 12): the hub's destination table of each, and the topic of its change
 * events, one topic per table (`crm.loyalty.<table>.changed.v1`): each table has its own columns and its own ids, so
 * a topic per table keeps one schema per channel and a key (the row's primary key) that compaction can use as it is.
 */
export const LOYALTY_CHANGE_TOPICS: Readonly<Record<string, Topic>> = {
  clients: Topic.LoyaltyClientsChanged,
  client_abonnements: Topic.LoyaltyClientAbonnementsChanged,
  histories: Topic.LoyaltyHistoriesChanged,
  promotion_pass_orders: Topic.LoyaltyPromotionPassOrdersChanged,
  promotion_pass_vendus: Topic.LoyaltyPromotionPassVendusChanged,
  partners: Topic.LoyaltyPartnersChanged,
  promotions: Topic.LoyaltyPromotionsChanged,
};

/**
 * The payload of `crm.loyalty.<table>.changed.v1`: `record` is the row as the loyalty club's export API answers it
 * (every column of the source row, `updated_at` included where the table has one), `id` its primary key.
 */
export class LoyaltyRowChangedPayload extends ChangeEventPayload<Record<string, unknown>> {
  /** The hub's table (`clients`, `histories`, …): the topic's too. */
  @IsString()
  @Matches(/^[a-z][a-z0-9_]*$/)
  table: string;
}
