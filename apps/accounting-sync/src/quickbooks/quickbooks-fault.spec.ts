import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamHttpError } from '@sync-hub/http';
import { isUnauthorized } from './quickbooks-api.client';
import { asQuickBooksFault, QuickBooksFault, readFault } from './quickbooks-fault';

describe('QuickBooks Faults', () => {
  const validation = {
    Fault: {
      Error: [
        {
          Message: 'Duplicate Name Exists Error',
          Detail: 'The name supplied already exists.',
          code: '6240',
          element: '',
        },
      ],
      type: 'ValidationFault',
    },
    time: '2026-11-23T09:17:31.892-07:00',
  };

  it('reads the usual and the lowercase shape alike', () => {
    assert.deepEqual(readFault(validation), {
      type: 'ValidationFault',
      errors: [
        {
          code: '6240',
          message: 'Duplicate Name Exists Error',
          detail: 'The name supplied already exists.',
          element: null,
        },
      ],
    });
    const lower = {
      fault: {
        error: [{ message: 'message=AuthenticationFailed', detail: 'x', code: '3200', element: null }],
        type: 'AUTHENTICATION',
      },
    };
    assert.equal(readFault(lower)?.errors[0].code, '3200');
    assert.equal(readFault({ QueryResponse: {} }), null);
    assert.equal(readFault('<html>'), null);
  });

  it('turns an HTTP error with a Fault body into a QuickBooksFault with its intuit_tid; a 401 stays recognisable', () => {
    const err = asQuickBooksFault(
      new UpstreamHttpError('quickbooks', 400, 'POST /customer', validation, null, { intuit_tid: 'tid-1' }),
    );
    assert.ok(err instanceof QuickBooksFault);
    assert.deepEqual(
      [err.status, err.code, err.intuitTid, err.validation, err.retriable, err.has('6240')],
      [400, 'QBO_6240', 'tid-1', true, false, true],
    );
    assert.match(err.message, /ValidationFault 6240 Duplicate Name Exists Error: The name supplied already exists/);
    const throttled = asQuickBooksFault(
      new UpstreamHttpError('quickbooks', 429, 'GET /query', {
        Fault: { Error: [{ Message: 'ThrottleExceeded', code: '003001' }], type: 'ValidationFault' },
      }),
    );
    assert.ok(
      throttled instanceof QuickBooksFault && throttled.retriable && throttled.code === 'UPSTREAM_RATE_LIMITED',
    );
    const unauthorized = asQuickBooksFault(
      new UpstreamHttpError('quickbooks', 401, 'GET /companyinfo', {
        fault: { error: [{ code: '3200' }], type: 'AUTHENTICATION' },
      }),
    );
    assert.ok(isUnauthorized(unauthorized));
    const plain = new UpstreamHttpError('quickbooks', 502, 'GET /x', 'Bad Gateway');
    assert.equal(asQuickBooksFault(plain), plain, 'not a Fault: left as it was');
  });
});
