import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobState } from './job-state';

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
  const neverRan = { ...base, lastStatus: null, lastSuccessAt: null };

  it('healthy: succeeded within twice its interval', () => {
    assert.equal(jobState(base, now), 'healthy');
    assert.equal(jobState({ ...base, lastSuccessAt: hoursAgo(1.9) }, now), 'healthy');
  });

  it('pending: scheduled and never run (skipped ticks are not runs), until it is overdue', () => {
    assert.equal(jobState({ ...neverRan, since: hoursAgo(1) }, now), 'pending', 'a new schedule');
    assert.equal(jobState({ ...neverRan, since: hoursAgo(1.99) }, now), 'pending', 'just inside twice its interval');
    assert.equal(jobState({ ...neverRan, since: hoursAgo(2.01) }, now), 'overdue', 'no first run in time');
    assert.equal(
      jobState({ ...neverRan, since: hoursAgo(5000), intervalMinutes: null }, now),
      'pending',
      'no expected interval: never overdue',
    );
  });

  it('a first run ends pending: running, failing or healthy', () => {
    const fresh = { ...neverRan, since: hoursAgo(1) };
    assert.equal(jobState({ ...fresh, lastStatus: 'running' }, now), 'running');
    assert.equal(jobState({ ...fresh, lastStatus: 'failed', consecutiveFailures: 1 }, now), 'failing');
    assert.equal(jobState({ ...fresh, lastStatus: 'completed', lastSuccessAt: hoursAgo(0.1) }, now), 'healthy');
  });

  it('overdue: no success within twice its expected interval, or never since its schedule began', () => {
    assert.equal(jobState({ ...base, lastSuccessAt: hoursAgo(2.1) }, now), 'overdue');
    assert.equal(jobState({ ...neverRan, since: hoursAgo(3) }, now), 'overdue');
  });

  it('failing: the latest runs failed since the last success', () => {
    assert.equal(
      jobState({ ...base, lastStatus: 'failed', consecutiveFailures: 2, lastSuccessAt: hoursAgo(5) }, now),
      'failing',
    );
  });

  it('running wins over failing and overdue; paused wins over everything, pending included', () => {
    assert.equal(
      jobState({ ...base, lastStatus: 'running', consecutiveFailures: 3, lastSuccessAt: hoursAgo(9) }, now),
      'running',
    );
    assert.equal(jobState({ ...base, paused: true, lastStatus: 'running', consecutiveFailures: 3 }, now), 'paused');
    assert.equal(jobState({ ...neverRan, paused: true, since: hoursAgo(1) }, now), 'paused');
  });
});
