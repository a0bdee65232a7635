import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SyncRequestedPayload } from '@sync-hub/contracts';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { SEED_CADENCES, slotStart, tickFor } from './fixed-cadence.service';

describe('seed cadence ticks', () => {
  const hourly = SEED_CADENCES[0];

  it('Splynx customers run hourly (seed 000)', () => {
    assert.deepEqual([hourly.domain, hourly.job, hourly.everyMinutes], ['splynx', 'customers', 60]);
  });

  it('a slot is the start of its interval', () => {
    assert.equal(slotStart(new Date('2026-11-21T10:59:59.999Z'), 60).toISOString(), '2026-11-21T10:00:00.000Z');
    assert.equal(slotStart(new Date('2026-11-21T10:07:30Z'), 5).toISOString(), '2026-11-21T10:05:00.000Z');
  });

  it('the same slot always gives the same run id; another slot another', () => {
    const slot = new Date('2026-11-21T10:00:00Z');
    assert.equal(tickFor(hourly, slot).runId, tickFor(hourly, new Date(slot)).runId);
    assert.notEqual(tickFor(hourly, slot).runId, tickFor(hourly, new Date('2026-11-21T11:00:00Z')).runId);
  });

  it('a tick is a valid contract with a deadline before the next slot', () => {
    const t = tickFor(hourly, new Date('2026-11-21T10:00:00Z'));
    assert.deepEqual(validateSync(plainToInstance(SyncRequestedPayload, t)), []);
    assert.equal(t.deadline, '2026-11-21T10:59:59.000Z');
    assert.equal(t.trigger, 'schedule');
  });
});
