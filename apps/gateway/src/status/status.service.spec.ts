import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobState } from './status.service';

describe('jobState', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600000);
  const base = {
    paused: false,
    lastStatus: 'completed',
    consecutiveFailures: 0,
    lastSuccessAt: hoursAgo(0.5),
    since: hoursAgo(100),
    intervalMinutes: 60,
  };

  it('healthy: succeeded within twice its interval', () => {
    assert.equal(jobState(base, now), 'healthy');
    assert.equal(jobState({ ...base, lastSuccessAt: hoursAgo(1.9) }, now), 'healthy');
  });

  it('overdue: no success within twice its expected interval, or never since its schedule began', () => {
    assert.equal(jobState({ ...base, lastSuccessAt: hoursAgo(2.1) }, now), 'overdue');
    assert.equal(jobState({ ...base, lastStatus: null, lastSuccessAt: null, since: hoursAgo(3) }, now), 'overdue');
    assert.equal(
      jobState({ ...base, lastStatus: null, lastSuccessAt: null, since: hoursAgo(1) }, now),
      'healthy',
      'a new schedule is not overdue yet',
    );
  });

  it('failing: the latest runs failed since the last success', () => {
    assert.equal(
      jobState({ ...base, lastStatus: 'failed', consecutiveFailures: 2, lastSuccessAt: hoursAgo(5) }, now),
      'failing',
    );
  });

  it('running wins over failing and overdue; paused wins over everything', () => {
    assert.equal(
      jobState({ ...base, lastStatus: 'running', consecutiveFailures: 3, lastSuccessAt: hoursAgo(9) }, now),
      'running',
    );
    assert.equal(jobState({ ...base, paused: true, lastStatus: 'running', consecutiveFailures: 3 }, now), 'paused');
  });
});
