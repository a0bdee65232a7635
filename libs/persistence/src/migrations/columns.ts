import { QueryRunner, TableColumnOptions } from 'typeorm';

/** Column definitions that mean the same on MySQL/MariaDB and SQLite, so one migration serves both. */
export function columns(queryRunner: QueryRunner) {
  const mysql = queryRunner.connection.options.type === 'mysql';
  return {
    datetime: (name: string, nullable = false): TableColumnOptions =>
      mysql
        ? { name, type: 'datetime', precision: 3, isNullable: nullable }
        : { name, type: 'datetime', isNullable: nullable },
    // MySQL/MariaDB store BOOLEAN as TINYINT(1).
    bool: (name: string, dflt: boolean): TableColumnOptions => ({ name, type: 'boolean', default: dflt ? 1 : 0 }),
    text: (name: string, nullable = true): TableColumnOptions =>
      mysql ? { name, type: 'mediumtext', isNullable: nullable } : { name, type: 'text', isNullable: nullable },
  };
}
