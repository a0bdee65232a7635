import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** GET /api/crm/customers: filters (all optional) and paging; by name, then Robaws id. */
export class ListCustomersQuery {
  @ApiPropertyOptional({ description: 'the role exactly as stored (extraFields.Role in Robaws), e.g. CUSTOMER' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  role?: string;

  @ApiPropertyOptional({
    description:
      'searches name and email (part of), phone numbers (as typed or normalised to E.164: "0470 12 34 56" finds +32470123456) and the VAT number (normalised)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'true: customers with a local edit not pushed yet or a conflict; false: neither',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'dirty must be true or false' })
  dirty?: 'true' | 'false';

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{4,600}$/, { message: 'cursor is not a cursor this API gave out' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** GET /api/crm/customers/duplicates: how many groups at most (of each kind). */
export class ListDuplicatesQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/** The snake_case names of the fields PATCH /api/crm/customers/:id takes (and a push sends to Robaws). */
export const CUSTOMER_EDITABLE_FIELDS = [
  'name',
  'email',
  'tel',
  'gsm',
  'website',
  'address_line1',
  'address_line2',
  'postal_code',
  'city',
  'country',
  'vat_number',
  'role',
] as const;
export type CustomerEditableField = (typeof CUSTOMER_EDITABLE_FIELDS)[number];
export type CustomerEditableValues = Partial<Record<CustomerEditableField, string | null>>;

/**
 * PATCH /api/crm/customers/:id: any of the editable fields, a string or null (clears it). For the OpenAPI document
 * only: crm-sync validates the body itself, so that one 400 names every bad field (the phone numbers and the VAT number
 * are checked against the customer's country).
 */
export class UpdateCustomerBody {
  @ApiPropertyOptional({ description: 'not empty' }) name?: string;
  @ApiPropertyOptional({ nullable: true, description: 'an email address; stored lower-cased' }) email?: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'a phone number; stored in E.164' }) tel?: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'a mobile number; stored in E.164' }) gsm?: string | null;
  @ApiPropertyOptional({ nullable: true }) website?: string | null;
  @ApiPropertyOptional({ nullable: true }) address_line1?: string | null;
  @ApiPropertyOptional({ nullable: true }) address_line2?: string | null;
  @ApiPropertyOptional({ nullable: true }) postal_code?: string | null;
  @ApiPropertyOptional({ nullable: true }) city?: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'ISO 3166 alpha-2 (BE, NL, …)' }) country?: string | null;
  @ApiPropertyOptional({
    nullable: true,
    description: 'normalised (no spaces, dots or dashes, upper case, country prefix); refused when not valid',
  })
  vat_number?: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'extraFields.Role in Robaws' }) role?: string | null;
}

/** POST /api/crm/customers/:id/resolve. */
export class ResolveCustomerConflictBody {
  @ApiProperty({ enum: ['local', 'remote'], description: "local: keep the edit (push it); remote: keep Robaws's" })
  @IsIn(['local', 'remote'], { message: 'keep must be local or remote' })
  keep: 'local' | 'remote';
}

/** A local edit not pushed yet: the new values, the upstream values they replaced, and that version's updatedAt. */
export interface CustomerLocalEditView {
  fields: CustomerEditableValues;
  base: CustomerEditableValues;
  base_updated_at: string | null;
  edited_at: string;
}

/** Robaws changed an edited field before the push: both versions, until the operator keeps one. */
export interface CustomerConflictView {
  local: CustomerEditableValues;
  remote: CustomerEditableValues;
  remote_updated_at: string | null;
  detected_at: string;
}

/** One Robaws customer as the hub keeps it. Times are ISO-8601 UTC. */
export interface CustomerView {
  robaws_id: number;
  name: string | null;
  role: string | null;
  email: string | null;
  tel: string | null;
  gsm: string | null;
  /** The first valid of tel and gsm, in E.164. */
  phone: string | null;
  website: string | null;
  address_line1: string | null;
  address_line2: string | null;
  postal_code: string | null;
  city: string | null;
  country: string | null;
  vat_number: string | null;
  vat_valid: boolean | null;
  currency: string | null;
  language: string | null;
  is_active: boolean;
  /** A local edit not pushed yet, or a conflict. */
  dirty: boolean;
  local_edit: CustomerLocalEditView | null;
  conflict: CustomerConflictView | null;
  deleted_upstream: boolean;
  upstream_updated_at: string | null;
  synced_at: string;
  pushed_at: string | null;
}

/** CustomerView in one line, for the OpenAPI descriptions of the routes that answer it (crm-sync's and the gateway's). */
export const CUSTOMER_VIEW_DESCRIPTION =
  'CustomerView: { robaws_id, name, role, email, tel, gsm, phone (E.164), website, address_line1, address_line2, postal_code, city, country, vat_number, vat_valid, currency, language, is_active, dirty, local_edit: { fields, base, base_updated_at, edited_at } | null, conflict: { local, remote, remote_updated_at, detected_at } | null, deleted_upstream, upstream_updated_at, synced_at, pushed_at }';

export interface CustomerPage {
  data: CustomerView[];
  next_cursor: string | null;
}

/** POST /api/crm/customers/:id/sync and /push: the run that did it and the customer as it is now. */
export interface CustomerRunView {
  run_id: string;
  run_status: 'completed' | 'failed' | 'skipped';
  /** The run's error (`origin/CODE: message`) when it failed; null otherwise. */
  reason: string | null;
  customer: CustomerView;
}

/** Customers sharing a normalised VAT number or an email: possibly one company entered twice. */
export interface DuplicateGroupView {
  kind: 'vat_number' | 'email';
  value: string;
  customers: CustomerView[];
}

export interface DuplicatesView {
  data: DuplicateGroupView[];
}
