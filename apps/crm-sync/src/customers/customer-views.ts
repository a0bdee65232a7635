import { BadRequestException } from '@nestjs/common';
import type {
  CustomerEditableField,
  CustomerEditableValues,
  CustomerView,
  RobawsCustomerRecord,
} from '@sync-hub/contracts';
import { EDITABLE_FIELDS, EditableField, EditableValues, RobawsCustomer } from './robaws-customer.entity';

/** The entity's camelCase editable fields by their snake_case API names, and back. */
export const FIELD_OF: Readonly<Record<CustomerEditableField, EditableField>> = {
  name: 'name',
  email: 'email',
  tel: 'tel',
  gsm: 'gsm',
  website: 'website',
  address_line1: 'addressLine1',
  address_line2: 'addressLine2',
  postal_code: 'postalCode',
  city: 'city',
  country: 'country',
  vat_number: 'vatNumber',
  role: 'role',
};
export const API_NAME_OF = Object.fromEntries(Object.entries(FIELD_OF).map(([api, field]) => [field, api])) as Readonly<
  Record<EditableField, CustomerEditableField>
>;

/** Editable values with their API (snake_case) names, in the order of EDITABLE_FIELDS. */
export function apiValues(values: EditableValues | null | undefined): CustomerEditableValues {
  const out: CustomerEditableValues = {};
  for (const field of EDITABLE_FIELDS) if (values && field in values) out[API_NAME_OF[field]] = values[field] ?? null;
  return out;
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** The columns of a customer's record (the API's fields less the local edit, the conflict and the bookkeeping times). */
export type RecordColumns = Pick<
  RobawsCustomer,
  | 'robawsId'
  | 'name'
  | 'role'
  | 'email'
  | 'tel'
  | 'gsm'
  | 'phone'
  | 'website'
  | 'addressLine1'
  | 'addressLine2'
  | 'postalCode'
  | 'city'
  | 'country'
  | 'vatNumber'
  | 'vatValid'
  | 'currency'
  | 'language'
  | 'isActive'
  | 'deletedUpstream'
  | 'upstreamUpdatedAt'
>;

/** A customer as its change events carry it (`crm.robaws.customer.changed.v1`): the view's fields of the record. */
export function robawsCustomerRecord(row: RecordColumns): RobawsCustomerRecord {
  return {
    robaws_id: Number(row.robawsId),
    name: row.name,
    role: row.role,
    email: row.email,
    tel: row.tel,
    gsm: row.gsm,
    phone: row.phone,
    website: row.website,
    address_line1: row.addressLine1,
    address_line2: row.addressLine2,
    postal_code: row.postalCode,
    city: row.city,
    country: row.country,
    vat_number: row.vatNumber,
    vat_valid: row.vatValid === null || row.vatValid === undefined ? null : Boolean(row.vatValid),
    currency: row.currency,
    language: row.language,
    is_active: Boolean(row.isActive),
    deleted_upstream: Boolean(row.deletedUpstream),
    upstream_updated_at: iso(row.upstreamUpdatedAt),
  };
}

/** A customer row as the API shows it: snake_case, ISO-8601 UTC times, the local edit and the conflict spelled out. */
export function customerView(row: RobawsCustomer): CustomerView {
  const edit = row.localDirty;
  const conflict = row.conflict;
  const { deleted_upstream, upstream_updated_at, ...fields } = robawsCustomerRecord(row);
  return {
    ...fields,
    dirty: edit !== null || conflict !== null,
    local_edit: edit
      ? {
          fields: apiValues(edit.fields),
          base: apiValues(edit.base),
          base_updated_at: edit.baseUpdatedAt,
          edited_at: edit.editedAt,
        }
      : null,
    conflict: conflict
      ? {
          local: apiValues(conflict.local),
          remote: apiValues(conflict.remote),
          remote_updated_at: conflict.remoteUpdatedAt,
          detected_at: conflict.detectedAt,
        }
      : null,
    deleted_upstream,
    upstream_updated_at,
    synced_at: iso(row.syncedAt)!,
    pushed_at: iso(row.pushedAt),
  };
}

/** Where a page ended: the last row's name (null sorts as '') and Robaws id, the list's order. */
export interface CustomerCursor {
  name: string;
  id: number;
}

/** Opaque to callers: base64url of the JSON `[name, id]`. */
export function encodeCustomerCursor(row: Pick<RobawsCustomer, 'name' | 'robawsId'>): string {
  return Buffer.from(JSON.stringify([row.name ?? '', Number(row.robawsId)])).toString('base64url');
}

/** The cursor's position, or null when it is not one this API gave out. */
export function decodeCustomerCursor(cursor: string): CustomerCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [name, id] = value as unknown[];
    if (typeof name !== 'string' || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return null;
    return { name, id };
  } catch {
    return null;
  }
}

/** A 400 naming each bad field, in the shape the validation pipe gives (`message` list and `fields`). */
export function badFields(fields: Record<string, string[]>): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: Object.entries(fields).flatMap(([field, reasons]) => reasons.map((r) => `${field}: ${r}`)),
    fields,
  });
}
