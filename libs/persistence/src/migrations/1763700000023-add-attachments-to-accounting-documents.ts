import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * The PDF DevPos gives with a document, attached to its QuickBooks entity (issue 10): the Attachable's id once
 * attached, or why attaching failed (a warning on the document; the document itself is synced).
 */
export class AddAttachmentsToAccountingDocuments1763700000023 implements MigrationInterface {
  name = 'AddAttachmentsToAccountingDocuments1763700000023';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('accounting_documents', [
      new TableColumn({ name: 'attachment_id', type: 'varchar', length: '32', isNullable: true }),
      new TableColumn({ name: 'attachment_warning', type: 'varchar', length: '500', isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('accounting_documents', 'attachment_warning');
    await queryRunner.dropColumn('accounting_documents', 'attachment_id');
  }
}
