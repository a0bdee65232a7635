import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateCustomer } from '@sync-hub/simulators';
import { MalformedCustomerError, mapSplynxCustomer } from './splynx-customer.mapper';

describe('mapSplynxCustomer', () => {
  const record = generateCustomer(1, 17);

  it('maps a Splynx record whose numbers arrive as strings', () => {
    const row = mapSplynxCustomer(record);
    assert.equal(row.splynxId, 17);
    assert.equal(row.name, record.name);
    assert.equal(row.partnerId, Number(record.partner_id));
    assert.equal(row.locationId, Number(record.location_id));
    assert.equal(row.dateAdd, record.date_add);
    assert.equal(row.lastUpdate?.toISOString(), `${String(record.last_update).replace(' ', 'T')}.000Z`);
    assert.deepEqual(row.raw, record);
    assert.match(row.contentHash, /^[0-9a-f]{40}$/);
  });

  it('accepts real numbers too, and reads empty and zero dates as null', () => {
    const row = mapSplynxCustomer({
      ...record,
      id: 17,
      partner_id: 2,
      date_add: '0000-00-00',
      last_update: '',
      email: '',
    });
    assert.equal(row.splynxId, 17);
    assert.equal(row.partnerId, 2);
    assert.equal(row.dateAdd, null);
    assert.equal(row.lastUpdate, null);
    assert.equal(row.email, null);
  });

  it('hashes the same record the same, and differently when any field changes', () => {
    assert.equal(mapSplynxCustomer({ ...record }).contentHash, mapSplynxCustomer(record).contentHash);
    assert.notEqual(
      mapSplynxCustomer({ ...record, additional_attributes: { social_id: 'X1' } }).contentHash,
      mapSplynxCustomer(record).contentHash,
    );
    assert.notEqual(
      mapSplynxCustomer({ ...record, email: 'new@example.net' }).contentHash,
      mapSplynxCustomer(record).contentHash,
    );
  });

  it('names every problem of a malformed record and keeps its id', () => {
    assert.throws(
      () => mapSplynxCustomer({ ...record, name: null, partner_id: 'n/a', date_add: '21/11/2026' }),
      (err: unknown) => {
        assert.ok(err instanceof MalformedCustomerError);
        assert.equal(err.customerId, 17);
        assert.equal(err.problems.length, 3, err.message);
        assert.match(err.message, /name is missing/);
        assert.match(err.message, /partner_id "n\/a" is not an integer/);
        assert.match(err.message, /date_add 21\/11\/2026 is not YYYY-MM-DD/);
        return true;
      },
    );
  });

  it('rejects a record without a usable id, and text over the column length', () => {
    assert.throws(
      () => mapSplynxCustomer({ ...record, id: 'abc' }),
      (err: unknown) => err instanceof MalformedCustomerError && err.customerId === null,
    );
    assert.throws(() => mapSplynxCustomer(['not', 'an', 'object']), MalformedCustomerError);
    assert.throws(() => mapSplynxCustomer({ ...record, name: 'x'.repeat(256) }), /name is longer than 255/);
  });
});
