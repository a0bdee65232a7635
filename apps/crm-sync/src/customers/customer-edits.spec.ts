import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEdit, checkEdit } from './customer-edits';
import { customerView, decodeCustomerCursor, encodeCustomerCursor } from './customer-views';
import { mapRobawsClient, RobawsClientRecord } from './normalise';
import { RobawsCustomer } from './robaws-customer.entity';

const record = (): RobawsClientRecord => ({
  id: 3473,
  name: '222 CARS',
  email: 'info@222cars.example',
  tel: '+32 9 123 45 67',
  gsm: null,
  vatNumber: 'BE0123.456.749',
  address: { addressLine1: 'Kerkstraat 1', addressLine2: null, postalCode: '9000', city: 'Gent', country: 'NL' },
  extraFields: { Role: { type: 'SELECT', group: null, stringValue: 'CUSTOMER' } },
  updatedAt: '2024-10-01T14:20:00Z',
});

/** A stored row as the pull writes it from `record()`. */
function stored(): RobawsCustomer {
  const { fields } = mapRobawsClient(record(), 'BE');
  return Object.assign(new RobawsCustomer(), {
    ...fields,
    robawsId: 3473,
    syncedAt: new Date('2024-10-02T00:00:00Z'),
    localDirty: null,
    conflict: null,
    pushedAt: null,
    deletedUpstream: false,
  });
}

describe('checkEdit', () => {
  it('names every bad field at once: unknown, not a string, empty name, bad email, phones, VAT, too long', () => {
    const check = checkEdit(
      {
        name: ' ',
        email: 'nope',
        tel: '12',
        gsm: 5,
        vat_number: 'XX123',
        city: 'x'.repeat(129),
        phone: '+32470123456',
        colour: 'red',
      },
      stored(),
      'BE',
    );
    assert.equal(check.ok, false);
    if (check.ok) return;
    assert.deepEqual(Object.keys(check.fields).sort(), [
      'city',
      'colour',
      'email',
      'gsm',
      'name',
      'phone',
      'tel',
      'vat_number',
    ]);
    assert.deepEqual(check.fields.phone, ['is derived from tel and gsm; change those']);
    assert.match(
      check.fields.tel[0],
      /read in NL/,
      "a number without a country code is read in the customer's country",
    );
  });

  it('refuses a body that is not an object, or names no field', () => {
    assert.deepEqual(checkEdit([], stored(), 'BE'), {
      ok: false,
      fields: { body: ['must be a JSON object of the fields to change'] },
    });
    const empty = checkEdit({}, stored(), 'BE');
    assert.equal(empty.ok, false);
    assert.match(empty.ok ? '' : empty.fields.body[0], /^names no field to change/);
  });

  it('normalises like the pull: trimmed, blank is null, email lower case, E.164 in the new country, VAT prefixed', () => {
    const check = checkEdit(
      {
        email: ' Info@Example.COM ',
        country: 'be',
        tel: '0470 12 34 56',
        gsm: null,
        website: '  ',
        vat_number: '0123.456.749',
      },
      stored(),
      'NL',
    );
    assert.deepEqual(check, {
      ok: true,
      values: {
        email: 'info@example.com',
        country: 'BE',
        tel: '+32470123456',
        gsm: null,
        vatNumber: 'BE0123456749',
        website: null,
      },
    });
  });
});

describe('applyEdit', () => {
  const now = new Date('2024-10-03T08:00:00Z');

  it("records each edited field's upstream value as its base, with the upstream version's updatedAt", () => {
    const row = stored();
    const edit = applyEdit(row, { city: 'Antwerpen', tel: '+32470123456' }, 'BE', now);
    assert.deepEqual(edit.localDirty, {
      fields: { city: 'Antwerpen', tel: '+32470123456' },
      base: { city: 'Gent', tel: row.tel },
      baseUpdatedAt: '2024-10-01T14:20:00.000Z',
      editedAt: now.toISOString(),
    });
    assert.equal(edit.columns.phone, '+32470123456', 'the primary phone follows the new tel');
  });

  it('merges with the previous edit, keeping its bases; a field set back to its base leaves the edit', () => {
    const row = stored();
    row.localDirty = {
      fields: { city: 'Antwerpen', role: 'PARTNER' },
      base: { city: 'Gent', role: 'CUSTOMER' },
      baseUpdatedAt: '2024-09-01T00:00:00.000Z',
      editedAt: '2024-10-02T00:00:00.000Z',
    };
    const edit = applyEdit(row, { city: 'Gent', name: '222 CARS BV' }, 'BE', now);
    assert.deepEqual(edit.localDirty, {
      fields: { role: 'PARTNER', name: '222 CARS BV' },
      base: { role: 'CUSTOMER', name: '222 CARS' },
      baseUpdatedAt: '2024-09-01T00:00:00.000Z',
      editedAt: now.toISOString(),
    });
    const back = applyEdit(row, { city: 'Gent', role: 'CUSTOMER' }, 'BE', now);
    assert.equal(back.localDirty, null, 'nothing left to push');
    assert.deepEqual(back.columns, { city: 'Gent', role: 'CUSTOMER' });
  });

  it('a value equal to the upstream one is no edit', () => {
    assert.equal(applyEdit(stored(), { name: '222 CARS' }, 'BE', now).localDirty, null);
  });
});

describe('customer views and cursors', () => {
  it('shows the edit with API field names', () => {
    const row = stored();
    row.localDirty = applyEdit(row, { postalCode: '2000' }, 'BE', new Date('2024-10-03T08:00:00Z')).localDirty;
    const view = customerView(row);
    assert.equal(view.dirty, true);
    assert.deepEqual(view.local_edit?.fields, { postal_code: '2000' });
    assert.deepEqual(view.local_edit?.base, { postal_code: '9000' });
    assert.equal(view.robaws_id, 3473);
  });

  it('a cursor round-trips; anything else is not a cursor', () => {
    assert.deepEqual(decodeCustomerCursor(encodeCustomerCursor({ name: 'Ä "quoted"', robawsId: 12 })), {
      name: 'Ä "quoted"',
      id: 12,
    });
    assert.deepEqual(decodeCustomerCursor(encodeCustomerCursor({ name: null, robawsId: 1 })), { name: '', id: 1 });
    for (const bad of [
      'abcd',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('["a",0]').toString('base64url'),
    ])
      assert.equal(decodeCustomerCursor(bad), null, bad);
  });
});
