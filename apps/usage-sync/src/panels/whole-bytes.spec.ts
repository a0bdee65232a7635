import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { panelAnswered, wholeBytes } from './panel-adapter';

describe('wholeBytes: a reading as usage_bytes can hold it', () => {
  it('keeps whole numbers, rounds a fraction, and makes a count beyond 2^53 that config’s hard failure', () => {
    assert.deepEqual(wholeBytes({ status: 'ok', bytes: 1024, sourceField: 'used_traffic' }), {
      status: 'ok',
      bytes: 1024,
      sourceField: 'used_traffic',
    });
    assert.deepEqual(wholeBytes({ status: 'ok', bytes: 1536.6, sourceField: 'data.data_used' }), {
      status: 'ok',
      bytes: 1537,
      sourceField: 'data.data_used',
    });
    const huge = wholeBytes({ status: 'ok', bytes: 2 ** 60, sourceField: 'up + down' });
    assert.equal(huge.status, 'hard_failure');
    assert.match((huge as { error: string }).error, /is not a byte count that can be stored/);
    assert.equal((huge as { scope: string }).scope, 'config', "the panel answered: its circuit is not the config's");
    const skipped = { status: 'skipped' as const, reason: 'empty username' };
    assert.equal(wholeBytes(skipped), skipped);
  });

  it('tells a panel that answered from one that did not (the fan-out opens a lane on the first answer)', () => {
    assert.equal(panelAnswered({ status: 'ok', bytes: 1, sourceField: 'used_traffic' }), true);
    assert.equal(panelAnswered({ status: 'hard_failure', error: 'unknown user', scope: 'config' }), true);
    assert.equal(panelAnswered({ status: 'hard_failure', error: 'HTTP 502', scope: 'panel' }), false);
    assert.equal(panelAnswered({ status: 'skipped', reason: 'empty username' }), false);
  });
});
