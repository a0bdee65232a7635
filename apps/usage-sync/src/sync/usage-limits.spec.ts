import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossedThresholds, limitLevel, percentOfLimit } from './usage-limits';

describe('traffic limit levels and crossings', () => {
  it('the level is the highest threshold reached, exactly at its edge; none without a limit', () => {
    assert.equal(limitLevel(79, 100), 0);
    assert.equal(limitLevel(80, 100), 80);
    assert.equal(limitLevel(99, 100), 80);
    assert.equal(limitLevel(100, 100), 100);
    assert.equal(limitLevel(250, 100), 100);
    assert.equal(limitLevel(8_589_934_591, 10_737_418_240), 0, 'one byte under 80 % of 10 GiB');
    assert.equal(limitLevel(8_589_934_592, 10_737_418_240), 80);
    assert.equal(limitLevel(5_000, null), 0);
    assert.equal(limitLevel(5_000, 0), 0, 'a limit of 0 is unlimited');
  });

  it('announces each threshold crossed upwards once, and again only after a drop below it', () => {
    assert.deepEqual(crossedThresholds(0, 0), []);
    assert.deepEqual(crossedThresholds(0, 80), [80]);
    assert.deepEqual(crossedThresholds(80, 80), [], 'still above 80 %: not again');
    assert.deepEqual(crossedThresholds(80, 100), [100]);
    assert.deepEqual(crossedThresholds(0, 100), [80, 100], 'a jump crosses both, in order');
    assert.deepEqual(crossedThresholds(100, 100), []);
    assert.deepEqual(crossedThresholds(100, 0), [], 'a reset announces nothing');
    assert.deepEqual(crossedThresholds(100, 80), []);
  });

  it('percent used has two decimals; null without a limit', () => {
    assert.equal(percentOfLimit(1, 3), 33.33);
    assert.equal(percentOfLimit(150, 100), 150);
    assert.equal(percentOfLimit(10, null), null);
  });
});
