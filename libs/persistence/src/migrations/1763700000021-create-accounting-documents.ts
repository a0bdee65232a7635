import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columns } from './columns';

/**
 * One row per source document per company (accounting-sync): (company, source, EIC) is unique, so a document maps to
 * at most one QuickBooks entity, whatever happens to a run.
 */
export class CreateAccountingDocuments1763700000021 implements MigrationInterface {
  name = 'CreateAccountingDocuments1763700000021';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'accounting_documents',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'company_id', type: 'int' },
          { name: 'source', type: 'varchar', length: '16' },
          { name: 'eic', type: 'varchar', length: '64' },
          { name: 'doc_type', type: 'varchar', length: '16' },
          { name: 'qbo_entity', type: 'varchar', length: '16' },
          { name: 'qbo_id', type: 'varchar', length: '32', isNullable: true },
          { name: 'sync_token', type: 'varchar', length: '16', isNullable: true },
          { name: 'content_hash', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'document_number', type: 'varchar', length: '64', isNullable: true },
          { name: 'txn_date', type: 'varchar', length: '10' },
          { name: 'currency', type: 'varchar', length: '3' },
          { name: 'generation', type: 'int', default: 0 },
          { name: 'pending_request', type: 'varchar', length: '50', isNullable: true },
          { name: 'error_code', type: 'varchar', length: '64', isNullable: true },
          { name: 'error_message', type: 'varchar', length: '2000', isNullable: true },
          { name: 'error_element', type: 'varchar', length: '255', isNullable: true },
          { name: 'intuit_tid', type: 'varchar', length: '64', isNullable: true },
          c.datetime('synced_at', true),
          c.datetime('created_at'),
          c.datetime('updated_at'),
        ],
        uniques: [{ name: 'uq_accounting_documents_eic', columnNames: ['company_id', 'source', 'eic'] }],
        indices: [
          { name: 'idx_accounting_documents_status', columnNames: ['company_id', 'status', 'txn_date'] },
          { name: 'idx_accounting_documents_type', columnNames: ['company_id', 'doc_type', 'txn_date'] },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('accounting_documents');
  }
}
