import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { isDeadlock, transactionRetryingDeadlocks } from './errors';

const deadlock = () =>
  new QueryFailedError(
    'INSERT …',
    [],
    Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK' }),
  );

/** A data source whose transactions fail as told, recording the isolation level each was begun with. */
function source(type: string, failures: Array<() => Error>) {
  const levels: unknown[] = [];
  const ds = {
    options: { type },
    transaction: async (...args: unknown[]) => {
      const work = args[args.length - 1] as (m: EntityManager) => Promise<unknown>;
      levels.push(args.length === 2 ? args[0] : undefined);
      const failure = failures.shift();
      if (failure) throw failure();
      return work({} as EntityManager);
    },
  } as unknown as DataSource;
  return { ds, levels };
}

describe('transactionRetryingDeadlocks', () => {
  it('runs a deadlock victim again, up to three tries, in READ COMMITTED on MySQL', async () => {
    const { ds, levels } = source('mysql', [deadlock, deadlock]);
    assert.equal(await transactionRetryingDeadlocks(ds, async () => 'written'), 'written');
    assert.deepEqual(levels, ['READ COMMITTED', 'READ COMMITTED', 'READ COMMITTED']);
    assert.ok(isDeadlock(deadlock()));
  });

  it('gives up after the third deadlock, and never retries another error', async () => {
    const three = source('mysql', [deadlock, deadlock, deadlock, deadlock]);
    await assert.rejects(
      transactionRetryingDeadlocks(three.ds, async () => 'x'),
      /Deadlock/,
    );
    assert.equal(three.levels.length, 3);
    const other = source('sqljs', [() => new Error('disk full'), deadlock]);
    await assert.rejects(
      transactionRetryingDeadlocks(other.ds, async () => 'x'),
      /disk full/,
    );
    assert.deepEqual(other.levels, [undefined], 'SQLite: the default level, one try');
  });
});
