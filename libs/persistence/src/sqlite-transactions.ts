import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';

const serialized = new WeakSet<DataSource>();

/**
 * On SQLite (sql.js, the embedded mode) TypeORM gives every caller the same connection, so two transactions begun at
 * once collide ("cannot start a transaction within a transaction"): a sync page's transaction and the outbox's flush,
 * say. This makes the data source's transactions take turns: one at a time, in the order asked, and a transaction
 * begun inside another (through the data source, not its manager) runs in it as before. On MySQL/MariaDB each
 * transaction has a connection of its own and nothing changes. Idempotent.
 */
export function serializeSqliteTransactions(ds: DataSource): DataSource {
  if (ds.options.type !== 'sqljs' || serialized.has(ds)) return ds;
  serialized.add(ds);
  const manager = ds.manager;
  const original = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  // Set while a transaction's callback runs: work it started that outlives it (a promise chain left running) no longer
  // counts as inside, and waits its turn.
  const inside = new AsyncLocalStorage<{ active: boolean }>();
  let tail: Promise<void> = Promise.resolve();
  const serializedTransaction = async (...args: unknown[]): Promise<unknown> => {
    if (inside.getStore()?.active) return original(...args);
    const before = tail;
    let release!: () => void;
    tail = new Promise<void>((resolve) => (release = resolve));
    await before;
    const store = { active: true };
    try {
      return await inside.run(store, () => original(...args));
    } finally {
      store.active = false;
      release();
    }
  };
  manager.transaction = serializedTransaction;
  return ds;
}
