import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoredBackoff } from './stored-backoff';

describe('StoredBackoff', () => {
  it('doubles from the first delay after each failed try, up to its cap, without jitter', () => {
    const backoff = new StoredBackoff(10_000, 300_000);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 12].map((n) => backoff.delayAfter(n)),
      [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000],
    );
  });
});
