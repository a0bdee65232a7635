import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunError, RunEventPayload } from '@sync-hub/contracts';
import { adviceFor, notificationMessage } from './notification-message';

const failed = (error: RunError): RunEventPayload => ({
  runId: '00000000-0000-4000-8000-000000000001',
  domain: 'splynx',
  job: 'customers',
  companyId: 1,
  trigger: 'schedule',
  startedAt: '2026-03-01T10:00:00.000Z',
  finishedAt: '2026-03-01T10:00:05.000Z',
  stats: { fetched: 200, created: 200, updated: 0, unchanged: 0, skipped: 0, failed: 0 },
  error,
});

/** What an operator reads for each class of upstream failure (docs/operations.md, "An upstream is slow or failing"). */
describe('failure notifications of upstream errors', () => {
  const upstreamError = (code: string): RunError => ({
    code,
    message: `splynx: GET /api/2.0/admin/customers/customer ${code}`,
    retriable: true,
    origin: 'source',
  });

  it('names the class and what to do: timeout, rate limited, 5xx, unreachable, bad response', () => {
    const advice = (code: string) => adviceFor(upstreamError(code), 'splynx');
    assert.match(advice('UPSTREAM_TIMEOUT'), /^The splynx API did not answer in time, on every attempt/);
    assert.match(advice('UPSTREAM_RATE_LIMITED'), /too many requests \(429\) after every retry/);
    assert.match(advice('UPSTREAM_UNAVAILABLE'), /server errors \(5xx\) on every attempt/);
    assert.match(advice('UPSTREAM_UNREACHABLE'), /could not be reached/);
    assert.match(advice('UPSTREAM_BAD_RESPONSE'), /something we cannot read \(cut off or not the expected JSON\)/);
    assert.match(
      adviceFor({ ...upstreamError('UPSTREAM_HTTP_404'), retriable: false }, 'splynx'),
      /refused the request/,
      'other upstream errors keep the general advice',
    );
  });

  it('the failure text carries the classification, the run and the advice', () => {
    const message = notificationMessage('failure', failed(upstreamError('UPSTREAM_BAD_RESPONSE')), {
      lastSuccessAt: null,
      consecutiveFailures: 1,
    });
    assert.equal(message.subject, '[sync hub] splynx/customers (company 1) failed');
    assert.deepEqual(message.text.split('\n'), [
      'The splynx/customers (company 1) sync failed.',
      '',
      'Run: 00000000-0000-4000-8000-000000000001 (trigger schedule)',
      'Error: source/UPSTREAM_BAD_RESPONSE (retriable): splynx: GET /api/2.0/admin/customers/customer UPSTREAM_BAD_RESPONSE',
      'Last success: never',
      'Consecutive failures: 1',
      '',
      `What to do: ${adviceFor(upstreamError('UPSTREAM_BAD_RESPONSE'), 'splynx')}`,
    ]);
  });
});
