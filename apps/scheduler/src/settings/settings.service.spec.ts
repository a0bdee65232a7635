import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SETTINGS, USAGE_INTERVAL_SETTING } from './settings.service';

describe('the usage interval setting (seed 004)', () => {
  const effective = (v: unknown) => SETTINGS[USAGE_INTERVAL_SETTING].effective(v);

  it('defaults to 5 and keeps integers in [1, 5]', () => {
    assert.equal(SETTINGS[USAGE_INTERVAL_SETTING].default, 5);
    for (const n of [1, 2, 3, 4, 5]) assert.equal(effective(n), n);
  });

  it('clamps: 0 becomes 1, 10 becomes 5, negatives become 1; integer text counts', () => {
    assert.equal(effective(0), 1);
    assert.equal(effective(10), 5);
    assert.equal(effective(-3), 1);
    assert.equal(effective('3'), 3);
    assert.equal(effective(' 7 '), 5);
  });

  it('falls back to 5 for anything that is not an integer', () => {
    for (const v of [2.5, '2.5', 'abc', '', null, undefined, true, [], {}, Number.NaN])
      assert.equal(effective(v), 5, JSON.stringify(v));
  });
});
