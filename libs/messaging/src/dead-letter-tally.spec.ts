import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadLetterTally, DLQ_REPLAY_OF_HEADER } from './dead-letter-tally';

const DLQ = 'sync.run.completed.v1.dlq';
const letter = { error: 'invalid message', attempts: '0' };
const marker = (id: string) => ({ [DLQ_REPLAY_OF_HEADER]: Buffer.from(id), dlqReplayedAt: '2025-01-01T00:00:00Z' });

describe('DeadLetterTally (bus_dead_letter_depth, bus_dead_letter_pending)', () => {
  it('counts dead letters, not replay markers; a replayed letter stays in the depth but leaves pending', () => {
    const tally = new DeadLetterTally();
    for (let offset = 0; offset < 4; offset++) tally.add(DLQ, 0, String(offset), letter);
    tally.add(DLQ, 1, '0', letter);
    tally.add(DLQ, 0, '4', marker('0:2'));
    tally.add(DLQ, 0, '5', marker('1:0'));
    assert.deepEqual(tally.count(DLQ), { depth: 5, pending: 3 });
    assert.deepEqual(tally.count('sync.run.failed.v1.dlq'), { depth: 0, pending: 0 });
  });

  it('a record read again (the reader rejoined and started over) counts once', () => {
    const tally = new DeadLetterTally();
    for (const offset of ['0', '1', '2', '0', '1', '2', '3']) tally.add(DLQ, 2, offset, letter);
    tally.add(DLQ, 2, '4', marker('2:1'));
    tally.add(DLQ, 2, '4', marker('2:1'));
    assert.deepEqual(tally.count(DLQ), { depth: 4, pending: 3 });
  });

  it('letters before the start offset (removed by retention) drop out', () => {
    const tally = new DeadLetterTally();
    for (let offset = 0; offset < 10; offset++) tally.add(DLQ, 0, offset, letter);
    tally.add(DLQ, 0, 10, marker('0:8'));
    tally.add(DLQ, 1, 0, letter);
    assert.deepEqual(tally.count(DLQ, new Map([[0, 7]])), { depth: 4, pending: 3 }, 'offsets 7, 8, 9 and 1:0');
    assert.deepEqual(
      tally.count(
        DLQ,
        new Map([
          [0, 11],
          [1, 1],
        ]),
      ),
      { depth: 0, pending: 0 },
    );
  });
});
