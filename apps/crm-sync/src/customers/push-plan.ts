// Pure decisions of the Robaws push (issue 11, "Local edits and push"): what Robaws's current version means for a
// local edit (send, conflict, or nothing left to send), and the merge-patch in Robaws's own shape.
import { EDITABLE_FIELDS, EditableField, EditableValues, LocalEdit } from './robaws-customer.entity';
import { mapRobawsClient, RobawsClientRecord, RobawsCustomerFields } from './normalise';

/** The editable fields Robaws keeps under `address` (the rest are top-level, except role: an extra field). */
const ADDRESS_FIELDS: ReadonlySet<EditableField> = new Set([
  'addressLine1',
  'addressLine2',
  'postalCode',
  'city',
  'country',
]);
const E164 = /^\+[1-9]\d{6,14}$/;

export type PushDecision =
  /** Send this merge-patch (only the fields whose local value differs from Robaws's). */
  | { kind: 'patch'; patch: Record<string, unknown>; fields: EditableField[] }
  /** Robaws changed an edited field since the edit's base: keep both, send nothing. */
  | { kind: 'conflict'; fields: EditableField[]; remote: EditableValues }
  /** Robaws holds the edited values already: nothing to send, the row is clean. */
  | { kind: 'in-sync' };

/** The editable fields of a Robaws record as the hub stores them (normalised: E.164 phones, VAT, lower-case email). */
export function editableValues(
  record: RobawsClientRecord,
  defaultRegion: string,
): Record<EditableField, string | null> {
  const fields = mapRobawsClient(record, defaultRegion).fields;
  const out = {} as Record<EditableField, string | null>;
  for (const field of EDITABLE_FIELDS) out[field] = fields[field];
  return out;
}

function same(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? null) === (b ?? null);
}

function editedFields(edit: LocalEdit): EditableField[] {
  return EDITABLE_FIELDS.filter((field) => Object.prototype.hasOwnProperty.call(edit.fields, field));
}

/**
 * The conflict rule: an edited field whose value in Robaws's current version differs from the edit's base value was
 * changed in Robaws since the edit was made, and the push must not overwrite it; unless Robaws now holds the very value
 * the edit sets (both sides agree, nothing is lost). A change in Robaws to a field the edit does not touch is no
 * conflict: the merge-patch leaves that field alone. Otherwise the patch carries the edited fields whose local value
 * differs from Robaws's current one, and none at all when Robaws already holds them.
 */
export function decidePush(edit: LocalEdit, current: RobawsClientRecord, defaultRegion: string): PushDecision {
  const remote = editableValues(current, defaultRegion);
  const edited = editedFields(edit);
  const conflicting = edited.filter(
    (field) => !same(remote[field], edit.base[field]) && !same(remote[field], edit.fields[field]),
  );
  if (conflicting.length > 0) {
    const remoteOfEdited: EditableValues = {};
    for (const field of edited) remoteOfEdited[field] = remote[field];
    return { kind: 'conflict', fields: conflicting, remote: remoteOfEdited };
  }
  const changed = edited.filter((field) => !same(remote[field], edit.fields[field]));
  if (changed.length === 0) return { kind: 'in-sync' };
  return { kind: 'patch', patch: buildMergePatch(edit.fields, changed, current), fields: changed };
}

/**
 * The RFC 7386 merge-patch in Robaws's shape: name, email, tel, gsm, website and vatNumber at the top level, address
 * fields under `address`, the role as `extraFields.<the record's Role key, else "Role">.stringValue` with the extra
 * field's other members (type, group) kept. A null value removes the member, which is how merge-patch clears a field.
 */
export function buildMergePatch(
  values: EditableValues,
  fields: readonly EditableField[],
  current: RobawsClientRecord,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field] ?? null;
    if (ADDRESS_FIELDS.has(field)) {
      const address = (patch.address ?? {}) as Record<string, unknown>;
      address[field] = value;
      patch.address = address;
    } else if (field === 'role') {
      patch.extraFields = rolePatch(current, value);
    } else {
      patch[field] = value;
    }
  }
  return patch;
}

function rolePatch(current: RobawsClientRecord, role: string | null): Record<string, unknown> {
  const extraFields = current.extraFields && typeof current.extraFields === 'object' ? current.extraFields : {};
  const key = Object.keys(extraFields).find((name) => name.toLowerCase() === 'role') ?? 'Role';
  const existing = extraFields[key];
  // A tenant whose Role holds a bare string gets a bare string back; otherwise the value object, members kept.
  if (typeof existing === 'string') return { [key]: role };
  // The members it has are sent as they are, except null ones: in a merge-patch a null removes the member.
  const members: Record<string, unknown> = {};
  if (existing && typeof existing === 'object') {
    for (const [name, value] of Object.entries(existing)) if (value !== null) members[name] = value;
  } else {
    members.type = 'SELECT';
  }
  return { [key]: { ...members, stringValue: role } };
}

/**
 * The row a pull stores for a customer with a pending edit: Robaws's version, except the edited fields, which keep
 * their local values (and `phone` follows the local tel/gsm). The push stores a conflicting version this way.
 */
export function rowKeepingEdit(fields: RobawsCustomerFields, edit: LocalEdit): Record<string, unknown> {
  const { robawsId, ...rest } = fields;
  const row: Record<string, unknown> = { ...rest, robawsId: Number(robawsId) };
  for (const field of editedFields(edit)) row[field] = edit.fields[field] ?? null;
  if ('tel' in edit.fields || 'gsm' in edit.fields)
    row.phone = [row.tel, row.gsm].find((p) => typeof p === 'string' && E164.test(p)) ?? null;
  return row;
}
