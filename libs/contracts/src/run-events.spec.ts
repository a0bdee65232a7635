import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { envelope } from './envelope';
import { RunEventPayload, runEventMessage } from './run-events';
import { SyncRequestedPayload } from './sync-requested';
import { Topic } from './topics';
import { InvalidMessageError, parseEnvelope } from './validation';

const tick: SyncRequestedPayload = {
  runId: '7d4b5a0e-4a39-4c57-9a55-0f2c4a1b8e11',
  domain: 'accounting',
  job: 'connections.check',
  companyId: 1,
  trigger: 'schedule',
  scheduledFor: '2026-11-21T06:00:00.000Z',
  deadline: '2026-11-21T07:00:00.000Z',
};
const startedAt = new Date('2026-11-21T06:00:01.000Z');
const finishedAt = new Date('2026-11-21T06:00:02.000Z');

const payloadOf = (m: { value: unknown }) => (m.value as { payload: RunEventPayload }).payload;
const completedWith = (warnings: unknown) =>
  envelope('sync.run.completed', { ...payloadOf(runEventMessage(Topic.RunCompleted, tick, { startedAt })), warnings });

describe('run event warnings', () => {
  it('a completed event carries its warnings; an empty list, or any other event, carries none', () => {
    const warned = runEventMessage(Topic.RunCompleted, tick, { startedAt, finishedAt, warnings: ['token expires'] });
    assert.deepEqual(payloadOf(warned).warnings, ['token expires']);
    assert.equal(
      'warnings' in payloadOf(runEventMessage(Topic.RunCompleted, tick, { startedAt, warnings: [] })),
      false,
    );
    const failed = runEventMessage(Topic.RunFailed, tick, { startedAt, warnings: ['dropped'] });
    assert.equal('warnings' in payloadOf(failed), false, 'a failed run has its error, not warnings');
  });

  it('validates: an event without warnings (as older events are) and one with 50 of 1000 characters pass', () => {
    assert.equal(parseEnvelope(completedWith(undefined), RunEventPayload).payload.warnings, undefined);
    const most = Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(1000, 'x'));
    assert.deepEqual(parseEnvelope(completedWith(most), RunEventPayload).payload.warnings, most);
  });

  it('refuses more than 50 warnings, one longer than 1000 characters, a non-string and a non-array, naming the field', () => {
    const refused = (warnings: unknown, why: RegExp) =>
      assert.throws(
        () => parseEnvelope(completedWith(warnings), RunEventPayload),
        (err: unknown) => err instanceof InvalidMessageError && err.problems.some((p) => why.test(p)),
      );
    refused(
      Array.from({ length: 51 }, () => 'w'),
      /^payload\.warnings: warnings must contain no more than 50 elements$/,
    );
    refused(['x'.repeat(1001)], /^payload\.warnings: each value in warnings must be shorter than or equal to 1000/);
    refused(['fine', 42], /^payload\.warnings: each value in warnings must be a string$/);
    refused('one warning', /^payload\.warnings: warnings must be an array$/);
  });
});
