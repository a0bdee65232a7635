import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { OutboxMessage } from './outbox-message.entity';
import { serializeSqliteTransactions } from './sqlite-transactions';

const row = (topic: string) => ({
  topic,
  messageKey: 'k',
  value: '{}',
  attempts: 0,
  lastError: null,
  createdAt: new Date(),
  nextAttemptAt: new Date(),
});

async function database(): Promise<DataSource> {
  const ds = new DataSource({
    ...dataSourceOptions({ kind: 'sqlite', file: ':memory:' }),
    location: undefined,
    entities: [OutboxMessage],
    autoSave: false,
  } as never);
  await ds.initialize();
  await ds.runMigrations();
  return ds;
}

/** Two transactions begun at once, each waiting a moment inside: what a sync page and the outbox's flush do. */
const both = (ds: DataSource) =>
  Promise.all(
    ['a', 'b'].map((t) =>
      ds.transaction(async (m) => {
        await m.getRepository(OutboxMessage).insert(row(t));
        await new Promise((r) => setTimeout(r, 10));
        await m.getRepository(OutboxMessage).insert(row(t));
      }),
    ),
  );

describe('transactions on sql.js take turns', () => {
  it('collide without it: the failure it prevents', async () => {
    const ds = await database();
    try {
      await assert.rejects(both(ds), /transaction/);
    } finally {
      await ds.destroy().catch(() => undefined);
    }
  });

  it('run one after the other with it; one begun inside another runs in it; a failed one lets the next in', async () => {
    const ds = serializeSqliteTransactions(await database());
    try {
      await both(ds);
      const topics = (await ds.getRepository(OutboxMessage).find({ order: { id: 'ASC' } })).map((r) => r.topic);
      assert.deepEqual(topics, ['a', 'a', 'b', 'b'], 'the second began after the first committed');

      await ds.transaction(async () => {
        await ds.transaction((m) => m.getRepository(OutboxMessage).insert(row('nested')));
      });
      assert.equal(await ds.getRepository(OutboxMessage).countBy({ topic: 'nested' }), 1);

      await assert.rejects(
        ds.transaction(() => Promise.reject(new Error('boom'))),
        /boom/,
      );
      await ds.transaction((m) => m.getRepository(OutboxMessage).insert(row('after')));
      assert.equal(await ds.getRepository(OutboxMessage).countBy({ topic: 'after' }), 1);
    } finally {
      await ds.destroy();
    }
  });

  it('work a transaction left running after it committed waits its turn, not run inside a finished transaction', async () => {
    const ds = serializeSqliteTransactions(await database());
    try {
      const order: string[] = [];
      let later!: Promise<void>;
      await ds.transaction(async (m) => {
        await m.getRepository(OutboxMessage).insert(row('first'));
        // Started inside, run after the commit (what a message published from a flush's transaction sets off).
        later = new Promise((r) => setTimeout(r, 20)).then(() =>
          ds.transaction(async (m2) => {
            order.push('later began');
            await m2.getRepository(OutboxMessage).insert(row('later'));
          }),
        );
      });
      // Another transaction holds the connection when the late work asks for one: the late one must wait for it.
      await ds.transaction(async (m) => {
        order.push('other began');
        await new Promise((r) => setTimeout(r, 40));
        await m.getRepository(OutboxMessage).insert(row('other'));
        order.push('other committing');
      });
      await later;
      assert.deepEqual(order, ['other began', 'other committing', 'later began']);
      assert.equal(await ds.getRepository(OutboxMessage).countBy({ topic: 'later' }), 1);
    } finally {
      await ds.destroy();
    }
  });
});
