import { DataSource, EntityManager, QueryFailedError } from 'typeorm';

export function isDuplicateKeyError(err: unknown): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driver = (err as QueryFailedError & { driverError?: { code?: string; message?: string } }).driverError;
  return driver?.code === 'ER_DUP_ENTRY' || /UNIQUE constraint failed/i.test(driver?.message ?? err.message);
}

/** MariaDB chose this transaction as a deadlock's victim and rolled it back: it can be run again as it was. */
export function isDeadlock(err: unknown): boolean {
  const driverError = (err as { driverError?: { code?: string } } | null)?.driverError;
  return (driverError?.code ?? (err as { code?: string } | null)?.code) === 'ER_LOCK_DEADLOCK';
}

/** Tries of a transaction MariaDB ends as a deadlock's victim, in `transactionRetryingDeadlocks`. */
const DEADLOCK_TRIES = 3;

/**
 * A transaction that MariaDB may roll back as a deadlock's victim (two writers of neighbouring keys, each holding what
 * the other's next statement needs): tried again, up to three times in all, as the error says to. `work` must be safe
 * to run again from the start (everything it wrote was rolled back with it). READ COMMITTED on MySQL/MariaDB: no gap
 * locks on what its statements search, which is where such deadlocks come from.
 */
export async function transactionRetryingDeadlocks<T>(
  ds: DataSource,
  work: (m: EntityManager) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return ds.options.type === 'mysql' ? await ds.transaction('READ COMMITTED', work) : await ds.transaction(work);
    } catch (err) {
      if (attempt < DEADLOCK_TRIES && isDeadlock(err)) continue;
      throw err;
    }
  }
}
