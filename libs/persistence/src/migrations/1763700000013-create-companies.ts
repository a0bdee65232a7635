import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/**
 * Companies (issue 9), owned by the scheduler, which already keys its schedules by company. Company 1 is seeded (the
 * seeded cadences are its schedules), and so is every company an existing install's schedules name, so no schedule is
 * left pointing at a company that does not exist. (Company ids are positive: a schedule of company 0 or below, which
 * the API never allowed to matter, gets no company.)
 */
export class CreateCompanies1763700000013 implements MigrationInterface {
  name = 'CreateCompanies1763700000013';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'companies',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'name', type: 'varchar', length: '255' },
          { name: 'timezone', type: 'varchar', length: '64', default: "'Europe/Tirane'" },
          c.bool('active', true),
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
      }),
    );
    // Plain SQL: a migration must not depend on today's entity classes. Times as UTC text, which both engines read.
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    const referenced = (await queryRunner.query(
      'SELECT DISTINCT company_id AS id FROM schedules WHERE company_id > 1 ORDER BY company_id',
    )) as Array<{ id: number | string }>;
    for (const id of [1, ...referenced.map((r) => Number(r.id))]) {
      await queryRunner.query(
        `INSERT INTO companies (id, name, timezone, active, created_at, updated_at) VALUES (?, ?, 'Europe/Tirane', 1, ?, ?)`,
        [id, `Company ${id}`, now, now],
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('companies');
  }
}
