import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode, StoredJson } from './event-publisher';

/**
 * The outbox's flush hands the Kafka publisher each value's stored JSON text (StoredJson) rather than the parsed value:
 * what goes on the wire must be byte for byte what the parsed value would have given.
 */
describe('StoredJson: a stored value is sent as its parsed value would be', () => {
  const values: unknown[] = [
    { id: 'e1', type: 'sync.run.completed.v1', payload: { stats: { fetched: 3 }, note: 'ünïcode "quoted" \\ slash' } },
    [1, 2, 3],
    42,
    true,
    'a plain string',
    '',
    null,
  ];
  for (const value of values)
    it(`${JSON.stringify(value)}`, () => {
      assert.deepEqual(encode(new StoredJson(JSON.stringify(value))), encode(value));
    });

  it('null stays a tombstone (no value), not the text "null"', () => {
    assert.equal(encode(new StoredJson('null')), null);
  });

  it('a JSON string is sent as its text, without the quotes, as the outbox sent it before', () => {
    assert.equal(encode(new StoredJson('"k\\"ey"')), 'k"ey');
  });

  it('an object is sent as the stored text itself, not parsed and encoded again', () => {
    const json = '{"b":1,"a":[true,null]}';
    assert.equal(encode(new StoredJson(json)), json);
  });
});
