import { Column, Entity, EntityManager, PrimaryColumn } from 'typeorm';

/**
 * Where a cursor-based sync stands in its upstream stream (`robaws.clients`: the `updatedAt` of the newest change
 * stored; `cp.<table>`: the last inserted id). Written in the same transaction as the rows it covers, so a crash never
 * leaves the cursor ahead of the data.
 */
@Entity('sync_cursors')
export class SyncCursor {
  @PrimaryColumn({ type: 'varchar', length: 100 }) stream: string;
  /** Text, so one table serves timestamps and ids alike. */
  @Column({ type: 'varchar', length: 64 }) position: string;
  @Column({ name: 'synced_at', type: 'datetime', precision: 3 }) syncedAt: Date;
}

export async function readCursor(manager: EntityManager, stream: string): Promise<SyncCursor | null> {
  return manager.getRepository(SyncCursor).findOneBy({ stream });
}

/** Inserts or moves the cursor; call it with the transaction's manager that writes the rows it covers. */
export async function writeCursor(manager: EntityManager, stream: string, position: string): Promise<void> {
  await manager
    .getRepository(SyncCursor)
    .upsert(
      { stream, position, syncedAt: new Date() },
      { conflictPaths: ['stream'], skipUpdateIfNoValuesChanged: false },
    );
}
