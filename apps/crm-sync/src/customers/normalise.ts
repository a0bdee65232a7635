// Pure normalisation of Robaws client records (issue 11, "Pull"): role, phones, VAT number, and the mapping to the
// fields of a `robaws_customers` row. Nothing here drops a value: what cannot be normalised is kept as given and
// flagged, so that the pull can count it in its stats and the operator can fix it.
import { createHash } from 'node:crypto';
import { checkVAT, countries } from 'jsvat';
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/** A Robaws extra-field value (section 3 of the upstream reference: one `…Value` key per field type). */
export interface RobawsExtraFieldValue {
  type?: string | null;
  group?: string | null;
  stringValue?: string | null;
  [key: string]: unknown;
}

/** The client record as Robaws sends it; every field may be missing, only `id` is relied on. */
export interface RobawsClientRecord {
  id: number | string;
  name?: string | null;
  email?: string | null;
  tel?: string | null;
  gsm?: string | null;
  website?: string | null;
  vatNumber?: string | null;
  currency?: string | null;
  language?: string | null;
  isActive?: boolean | null;
  countryCode?: string | null;
  address?: {
    addressLine1?: string | null;
    addressLine2?: string | null;
    postalCode?: string | null;
    city?: string | null;
    country?: string | null;
  } | null;
  extraFields?: Record<string, RobawsExtraFieldValue | string | null> | null;
  updatedAt?: string | null;
  [key: string]: unknown;
}

/** The `robaws_customers` fields a pull writes from one record (not the local-edit and bookkeeping columns). */
export interface RobawsCustomerFields {
  robawsId: string;
  name: string | null;
  role: string | null;
  email: string | null;
  tel: string | null;
  gsm: string | null;
  phone: string | null;
  website: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
  vatNumber: string | null;
  vatValid: boolean | null;
  currency: string | null;
  language: string | null;
  isActive: boolean;
  metadata: RobawsClientRecord;
  upstreamUpdatedAt: Date | null;
  /** sha256 over all of the above: equal hashes mean the row need not be rewritten. */
  contentHash: string;
}

export interface MappedCustomer {
  fields: RobawsCustomerFields;
  /** `metadata` as JSON, serialised once: hashed for `contentHash` and written as the column's text. */
  metadataJson: string;
  /** The record's fields holding a phone number that could not be normalised (kept as given in the row). */
  invalidPhones: Array<'tel' | 'gsm'>;
  /** A VAT number was given and the VAT library rejects it (kept, normalised, in the row; `vatValid` false). */
  invalidVat: boolean;
}

/** Trimmed text, or null for absent, non-string and blank values. */
function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/**
 * The customer's role: `extraFields.Role.stringValue`. The key is matched without regard to case (Robaws extra
 * fields are named by each tenant), a bare string value is accepted too, and anything else is no role (null).
 */
export function extractRole(record: Pick<RobawsClientRecord, 'extraFields'>): string | null {
  const extraFields = record.extraFields;
  if (extraFields === null || typeof extraFields !== 'object' || Array.isArray(extraFields)) return null;
  const key = Object.keys(extraFields).find((name) => name.toLowerCase() === 'role');
  if (key === undefined) return null;
  const value = extraFields[key];
  if (typeof value === 'string') return text(value);
  if (value === null || typeof value !== 'object') return null;
  return text(value.stringValue);
}

export interface NormalisedPhone {
  /** E.164 when valid, otherwise the input trimmed; null only when there was no number at all. */
  value: string | null;
  /** false for a number that was given but could not be parsed as a valid number; true when absent or valid. */
  valid: boolean;
}

/** Whether `region` is a country libphonenumber-js knows, so that a typo in ROBAWS_DEFAULT_COUNTRY is caught early. */
export function isPhoneRegion(region: string): region is CountryCode {
  return isSupportedCountry(region);
}

/**
 * A phone number in E.164, read with `defaultRegion` when it has no international prefix. A number that does not
 * parse into a valid one (free text, too short, two numbers in one field) is kept as given and flagged invalid.
 * An extension (`ext. 12`) is not part of E.164 and is left out; the full text stays in the row's metadata.
 */
export function normalisePhone(raw: unknown, defaultRegion: string): NormalisedPhone {
  const given = text(raw);
  if (given === null) return { value: null, valid: true };
  const region = isPhoneRegion(defaultRegion.toUpperCase()) ? (defaultRegion.toUpperCase() as CountryCode) : undefined;
  const parsed = parsePhoneNumberFromString(given, region);
  if (parsed === undefined || !parsed.isValid()) return { value: given, valid: false };
  return { value: parsed.number, valid: true };
}

export interface NormalisedVat {
  /** Upper case without spaces, dots and dashes, with its country prefix; null when there was no VAT number. */
  value: string | null;
  /** jsvat's verdict (format and check digits); null when there was no VAT number. */
  valid: boolean | null;
}

// The VAT prefix differs from the ISO 3166 country code for Greece (EL) and Switzerland (CHE, the UID register).
const VAT_PREFIX: Readonly<Record<string, string>> = { GR: 'EL', CH: 'CHE' };

/**
 * A VAT number cleaned of spaces, dots and dashes (typographic ones too) and upper-cased. A number that starts with
 * two letters keeps its prefix; one without a prefix gets the address country's (ISO alpha-2) VAT prefix, if that
 * country is known. Validity comes from jsvat; an invalid number is returned normalised and flagged, never dropped.
 */
export function normaliseVat(raw: unknown, addressCountry: string | null): NormalisedVat {
  const given = text(raw);
  if (given === null) return { value: null, valid: null };
  let value = given.replace(/[\s.\u2010-\u2015-]/g, '').toUpperCase();
  if (value === '') return { value: null, valid: null };
  const country = addressCountry?.trim().toUpperCase() ?? '';
  if (!/^[A-Z]{2}/.test(value) && /^[A-Z]{2}$/.test(country)) value = (VAT_PREFIX[country] ?? country) + value;
  return { value, valid: checkVAT(value, countries).isValid };
}

/** The address country as an upper-case ISO alpha-2 code when it is one, else the text as given (or null). */
function countryOf(record: RobawsClientRecord): string | null {
  const country = text(record.address?.country) ?? text(record.countryCode);
  if (country === null) return null;
  return /^[a-z]{2}$/i.test(country) ? country.toUpperCase() : country;
}

function timestamp(value: unknown): Date | null {
  const given = text(value);
  if (given === null) return null;
  const date = new Date(given);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * Moves when the normalisation changes, so that every stored row's hash differs once and the next pull rewrites the
 * rows with the new rules.
 */
const NORMALISATION_VERSION = 1;

/**
 * The content hash: of the record as Robaws sent it (JSON.stringify, native) and what the fields are derived with
 * (the default region, the normalisation's version). The fields are a function of those, so equal hashes mean an
 * equal row. Key order counts: Robaws serialises its records in a fixed order, and were it to change, each row would
 * be rewritten once. Sorting keys recursively in JavaScript cost 50 µs a client, most of a page's mapping time.
 */
function contentHashOf(recordJson: string, defaultRegion: string): string {
  return createHash('sha256').update(`${NORMALISATION_VERSION}\n${defaultRegion}\n${recordJson}`).digest('hex');
}

/**
 * The `robaws_customers` fields for one Robaws client. Phones are read in the client's address country (else
 * `defaultRegion`). `phone` is the customer's primary number for search and
 * duplicates: the valid `tel` in E.164, else the valid `gsm`, else null; `tel` and `gsm` hold each number normalised
 * or, when invalid, as given. `isActive` is true unless Robaws says `false`. `metadata` is the whole record.
 */
export function mapRobawsClient(record: RobawsClientRecord, defaultRegion: string): MappedCustomer {
  const country = countryOf(record);
  // A number written without a country code is local to the client's own country (a Dutch client's 06 …), which
  // ROBAWS_DEFAULT_COUNTRY stands in for only when the address names none.
  const region = country && isPhoneRegion(country) ? country : defaultRegion;
  const tel = normalisePhone(record.tel, region);
  const gsm = normalisePhone(record.gsm, region);
  const vat = normaliseVat(record.vatNumber, country);
  const email = text(record.email);
  const primary = [tel, gsm].find((phone) => phone.value !== null && phone.valid);
  const fields: Omit<RobawsCustomerFields, 'contentHash'> = {
    robawsId: String(record.id),
    name: text(record.name),
    role: extractRole(record),
    // Domains are case-insensitive and Robaws holds addresses typed by hand: lower case makes look-ups and the
    // duplicate check (customers sharing an email) work.
    email: email === null ? null : email.toLowerCase(),
    tel: tel.value,
    gsm: gsm.value,
    phone: primary?.value ?? null,
    website: text(record.website),
    addressLine1: text(record.address?.addressLine1),
    addressLine2: text(record.address?.addressLine2),
    postalCode: text(record.address?.postalCode),
    city: text(record.address?.city),
    country,
    vatNumber: vat.value,
    vatValid: vat.valid,
    currency: text(record.currency)?.toUpperCase() ?? null,
    language: text(record.language),
    isActive: record.isActive !== false,
    metadata: record,
    upstreamUpdatedAt: timestamp(record.updatedAt),
  };
  const metadataJson = JSON.stringify(record);
  const contentHash = contentHashOf(metadataJson, defaultRegion);
  const invalidPhones: Array<'tel' | 'gsm'> = [];
  if (!tel.valid) invalidPhones.push('tel');
  if (!gsm.valid) invalidPhones.push('gsm');
  return { fields: { ...fields, contentHash }, metadataJson, invalidPhones, invalidVat: vat.valid === false };
}
