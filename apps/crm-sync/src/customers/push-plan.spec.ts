import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapRobawsClient, RobawsClientRecord } from './normalise';
import { buildMergePatch, decidePush, editableValues, rowKeepingEdit } from './push-plan';
import { EditableValues, LocalEdit } from './robaws-customer.entity';

const record = (overrides: Partial<RobawsClientRecord> = {}): RobawsClientRecord => ({
  id: 3473,
  name: '222 CARS',
  email: 'info@222cars.example',
  tel: '+32 9 123 45 67',
  gsm: null,
  website: null,
  vatNumber: 'BE0123456789',
  address: { addressLine1: 'Kerkstraat 1', addressLine2: null, postalCode: '9000', city: 'Gent', country: 'BE' },
  extraFields: {
    Role: { type: 'SELECT', group: 'Sales', stringValue: 'CUSTOMER' },
    PRICING: { type: 'SELECT', group: null, stringValue: 'A' },
  },
  updatedAt: '2024-10-01T14:20:00.000Z',
  ...overrides,
});

/** An edit as the API writes it: the new values, and the upstream values of those fields it was based on. */
const edit = (fields: EditableValues, base: RobawsClientRecord = record()): LocalEdit => {
  const upstream = editableValues(base, 'BE');
  const baseValues: EditableValues = {};
  for (const field of Object.keys(fields) as Array<keyof EditableValues>) baseValues[field] = upstream[field];
  return { fields, base: baseValues, baseUpdatedAt: base.updatedAt ?? null, editedAt: '2024-10-02T08:00:00.000Z' };
};

describe('buildMergePatch', () => {
  it('puts top-level fields at the top, address fields under address, and the role in its extra field', () => {
    const values: EditableValues = { name: 'New', city: 'Brugge', postalCode: '8000', role: 'SUPPLIER', website: null };
    assert.deepEqual(buildMergePatch(values, ['name', 'city', 'postalCode', 'role', 'website'], record()), {
      name: 'New',
      address: { city: 'Brugge', postalCode: '8000' },
      extraFields: { Role: { type: 'SELECT', group: 'Sales', stringValue: 'SUPPLIER' } },
      website: null,
    });
  });

  it("uses the record's own spelling of the Role key, a bare string for a bare string, and Role when absent", () => {
    // A null member (group) is not sent: in a merge-patch a null would remove it.
    const lower = record({ extraFields: { role: { type: 'TEXT', group: null, stringValue: 'X' } } });
    assert.deepEqual(buildMergePatch({ role: 'Y' }, ['role'], lower), {
      extraFields: { role: { type: 'TEXT', stringValue: 'Y' } },
    });
    const bare = record({ extraFields: { ROLE: 'X' } });
    assert.deepEqual(buildMergePatch({ role: 'Y' }, ['role'], bare), { extraFields: { ROLE: 'Y' } });
    const none = record({ extraFields: null });
    assert.deepEqual(buildMergePatch({ role: 'Y' }, ['role'], none), {
      extraFields: { Role: { type: 'SELECT', stringValue: 'Y' } },
    });
  });

  it('clears a role with stringValue null (merge-patch removes the member, the pull reads no role)', () => {
    assert.deepEqual(buildMergePatch({ role: null }, ['role'], record()), {
      extraFields: { Role: { type: 'SELECT', group: 'Sales', stringValue: null } },
    });
  });
});

describe('decidePush (the conflict rule)', () => {
  it('sends only the edited fields whose local value Robaws does not hold yet', () => {
    const decision = decidePush(edit({ name: 'New name', email: 'info@222cars.example' }), record(), 'BE');
    assert.deepEqual(decision, { kind: 'patch', patch: { name: 'New name' }, fields: ['name'] });
  });

  it('compares normalised values: a phone Robaws holds in another format is not sent again', () => {
    const decision = decidePush(edit({ tel: '+3291234567', role: 'SUPPLIER' }), record(), 'BE');
    assert.equal(decision.kind, 'patch');
    assert.deepEqual(decision.kind === 'patch' && decision.fields, ['role']);
  });

  it('is a conflict when Robaws changed an edited field since the base, with both versions', () => {
    const local = edit({ name: 'Local name', city: 'Brugge' });
    const remote = record({ name: 'Remote name', updatedAt: '2024-10-03T00:00:00.000Z' });
    assert.deepEqual(decidePush(local, remote, 'BE'), {
      kind: 'conflict',
      fields: ['name'],
      remote: { name: 'Remote name', city: 'Gent' },
    });
  });

  it('is no conflict when Robaws changed a field the edit does not touch: the patch leaves it alone', () => {
    const local = edit({ name: 'Local name' });
    const remote = record({ email: 'new@222cars.example', updatedAt: '2024-10-03T00:00:00.000Z' });
    assert.deepEqual(decidePush(local, remote, 'BE'), {
      kind: 'patch',
      patch: { name: 'Local name' },
      fields: ['name'],
    });
  });

  it('is no conflict when Robaws changed an edited field to the very value of the edit: nothing left to send', () => {
    const local = edit({ name: 'Same name' });
    assert.deepEqual(decidePush(local, record({ name: 'Same name' }), 'BE'), { kind: 'in-sync' });
  });

  it('treats an absent base value as null (a field that was empty upstream and still is)', () => {
    const local: LocalEdit = { fields: { website: 'https://x.example' }, base: {}, baseUpdatedAt: null, editedAt: '' };
    assert.deepEqual(decidePush(local, record(), 'BE'), {
      kind: 'patch',
      patch: { website: 'https://x.example' },
      fields: ['website'],
    });
  });
});

describe('rowKeepingEdit', () => {
  it("stores Robaws's version except the edited fields, and phone follows a local tel", () => {
    const fields = mapRobawsClient(record({ name: 'Remote', email: 'r@x.example' }), 'BE').fields;
    const row = rowKeepingEdit(fields, edit({ name: 'Local', tel: '+3292222222' }));
    assert.equal(row.robawsId, 3473);
    assert.equal(row.name, 'Local');
    assert.equal(row.email, 'r@x.example');
    assert.equal(row.tel, '+3292222222');
    assert.equal(row.phone, '+3292222222');
  });
});
