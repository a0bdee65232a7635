import type { Logger } from '@nestjs/common';
import type { OutgoingMessage, ReliablePublisher } from '@sync-hub/messaging';
import type { DataSource, EntityManager } from 'typeorm';

export type EventMessage = { topic: string } & OutgoingMessage;

/**
 * A change and its events in one transaction (the transactional outbox): `work` writes through `m` and pushes the
 * events its change causes; they are enqueued in the same transaction and sent after the commit. If the bus refuses
 * them then, they stay in the outbox for its periodic flush. Schedules and settings are both written so.
 */
export async function transactionWithEvents<T>(
  dataSource: DataSource,
  outbox: ReliablePublisher,
  logger: Logger,
  what: string,
  work: (m: EntityManager, events: EventMessage[]) => Promise<T>,
): Promise<T> {
  const result = await dataSource.transaction(async (m) => {
    const events: EventMessage[] = [];
    const out = await work(m, events);
    await outbox.enqueue(m, events);
    return out;
  });
  await outbox.flush().catch((err: Error) => logger.warn(`${what} events wait in the outbox: ${err.message}`));
  return result;
}

/** Rows read to be changed or republished are locked, so a row's events go out in the order the row changes. */
export { lockedQuery } from '@sync-hub/persistence';
