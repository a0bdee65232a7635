import type { EntityManager, EntityTarget, ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * Rows read to be changed: locked until the transaction ends (MySQL `SELECT … FOR UPDATE`), so concurrent writers of
 * a row, in any process, take turns. SQLite serialises write transactions itself. (FOR UPDATE, since TypeORM writes a
 * shared lock as MySQL 8's FOR SHARE, which MariaDB does not parse.)
 */
export function lockedQuery<E extends ObjectLiteral>(
  m: EntityManager,
  entity: EntityTarget<E>,
  alias: string,
): SelectQueryBuilder<E> {
  const qb = m.getRepository(entity).createQueryBuilder(alias);
  return m.connection.options.type === 'mysql' ? qb.setLock('pessimistic_write') : qb;
}
