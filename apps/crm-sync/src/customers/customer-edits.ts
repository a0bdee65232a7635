// A local edit of a Robaws customer (PATCH /api/crm/customers/:id), as pure functions: the body checked field by field
// and normalised as the pull normalises Robaws's records, then merged into the row's pending edit.
import { CUSTOMER_EDITABLE_FIELDS, CustomerEditableField } from '@sync-hub/contracts';
import { isEmail } from 'class-validator';
import { EditableField, EditableValues, LocalEdit, RobawsCustomer } from './robaws-customer.entity';
import { FIELD_OF } from './customer-views';
import { isPhoneRegion, mapRobawsClient, normalisePhone, normaliseVat } from './normalise';

/** The column widths of robaws_customers: a longer value would not fit. */
const MAX_LENGTH: Readonly<Record<EditableField, number>> = {
  name: 255,
  email: 255,
  tel: 64,
  gsm: 64,
  website: 255,
  addressLine1: 255,
  addressLine2: 255,
  postalCode: 32,
  city: 128,
  country: 64,
  vatNumber: 64,
  role: 100,
};

export type EditCheck = { ok: true; values: EditableValues } | { ok: false; fields: Record<string, string[]> };

/** The region a customer's phone numbers are read in: its (new) country when that is one, else the default. */
function phoneRegion(country: string | null, defaultCountry: string): string {
  const code = country?.trim().toUpperCase() ?? '';
  return isPhoneRegion(code) ? code : defaultCountry;
}

/**
 * Checks a PATCH body against the customer and answers its values normalised (camelCase), or every bad field with
 * its reasons. Values are strings, or null to clear; text is trimmed and blank is null. Email is lower-cased; phones
 * become E.164 (read in the customer's country, the new one if the body changes it, else ROBAWS_DEFAULT_COUNTRY) and
 * one that does not parse is refused; the VAT number is normalised (prefixed from the country) and refused when jsvat
 * finds it invalid — unlike the pull, which keeps Robaws's invalid numbers, an operator typing one is told at once.
 */
export function checkEdit(body: unknown, row: RobawsCustomer, defaultCountry: string): EditCheck {
  const fields: Record<string, string[]> = {};
  const bad = (field: string, reason: string) => (fields[field] ??= []).push(reason);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, fields: { body: ['must be a JSON object of the fields to change'] } };
  }
  const given = body as Record<string, unknown>;
  if (Object.keys(given).length === 0)
    return { ok: false, fields: { body: [`names no field to change (${CUSTOMER_EDITABLE_FIELDS.join(', ')})`] } };
  const text: Partial<Record<EditableField, string | null>> = {};
  for (const [key, value] of Object.entries(given)) {
    if (!(CUSTOMER_EDITABLE_FIELDS as readonly string[]).includes(key)) {
      bad(
        key,
        key === 'phone'
          ? 'is derived from tel and gsm; change those'
          : `is not an editable field (${CUSTOMER_EDITABLE_FIELDS.join(', ')})`,
      );
      continue;
    }
    const field = FIELD_OF[key as CustomerEditableField];
    if (value !== null && typeof value !== 'string') {
      bad(key, 'must be a string, or null to clear it');
      continue;
    }
    const trimmed = value === null ? null : value.trim() || null;
    if (trimmed !== null && trimmed.length > MAX_LENGTH[field])
      bad(key, `must be at most ${MAX_LENGTH[field]} characters`);
    else text[field] = trimmed;
  }
  const values: EditableValues = {};
  if ('name' in text) {
    if (text.name === null) bad('name', 'must not be empty');
    else values.name = text.name;
  }
  if ('email' in text) {
    if (text.email !== null && !isEmail(text.email!)) bad('email', `"${text.email}" is not an email address`);
    else values.email = text.email?.toLowerCase() ?? null;
  }
  if ('country' in text) {
    const country = text.country ?? null;
    values.country = country !== null && /^[a-z]{2}$/i.test(country) ? country.toUpperCase() : country;
  }
  const country = 'country' in values ? (values.country ?? null) : row.country;
  const region = phoneRegion(country, defaultCountry);
  for (const field of ['tel', 'gsm'] as const) {
    if (!(field in text)) continue;
    const phone = normalisePhone(text[field], region);
    if (!phone.valid)
      bad(field, `"${text[field]}" is not a phone number (numbers without a country code are read in ${region})`);
    else values[field] = phone.value;
  }
  if ('vatNumber' in text) {
    const vat = normaliseVat(text.vatNumber, country);
    if (vat.valid === false) bad('vat_number', `"${text.vatNumber}" (${vat.value}) is not a valid VAT number`);
    else values.vatNumber = vat.value;
  }
  for (const field of ['website', 'addressLine1', 'addressLine2', 'postalCode', 'city', 'role'] as const)
    if (field in text) values[field] = text[field] ?? null;
  return Object.keys(fields).length ? { ok: false, fields } : { ok: true, values };
}

/** What an edit does to a row: the columns to write and the pending edit after it (null: nothing left to push). */
export interface AppliedEdit {
  columns: EditableValues & { phone?: string | null; vatValid?: boolean | null };
  localDirty: LocalEdit | null;
}

/**
 * Merges checked values into the row's pending edit. `base` holds, for each edited field, its value in the upstream
 * version the edit started from (the stored metadata, normalised as the pull does), kept from the first edit of that
 * field on; `baseUpdatedAt` is that version's updatedAt. A field set back to its base value leaves the edit, and an
 * edit with no field left is no edit.
 */
export function applyEdit(row: RobawsCustomer, values: EditableValues, defaultCountry: string, now: Date): AppliedEdit {
  const previous = row.localDirty;
  const upstream = mapRobawsClient(row.metadata, defaultCountry).fields;
  const fields: EditableValues = { ...previous?.fields };
  const base: EditableValues = { ...previous?.base };
  for (const [field, value] of Object.entries(values) as Array<[EditableField, string | null]>) {
    const baseValue = field in base ? (base[field] ?? null) : upstream[field];
    if (value === baseValue) {
      delete fields[field];
      delete base[field];
    } else {
      fields[field] = value;
      if (!(field in base)) base[field] = upstream[field];
    }
  }
  const columns: AppliedEdit['columns'] = { ...values };
  if ('tel' in values || 'gsm' in values || 'country' in values) {
    const tel = 'tel' in values ? values.tel : row.tel;
    const gsm = 'gsm' in values ? values.gsm : row.gsm;
    const region = phoneRegion('country' in values ? (values.country ?? null) : row.country, defaultCountry);
    const primary = [tel, gsm].map((p) => normalisePhone(p, region)).find((p) => p.value !== null && p.valid);
    columns.phone = primary?.value ?? null;
  }
  if ('vatNumber' in values) columns.vatValid = values.vatNumber === null ? null : true;
  const edited = Object.keys(fields).length > 0;
  return {
    columns,
    localDirty: edited
      ? {
          fields,
          base,
          baseUpdatedAt: previous
            ? previous.baseUpdatedAt
            : row.upstreamUpdatedAt
              ? new Date(row.upstreamUpdatedAt).toISOString()
              : null,
          editedAt: now.toISOString(),
        }
      : null,
  };
}
