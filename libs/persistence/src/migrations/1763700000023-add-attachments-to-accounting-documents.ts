import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { columns } from './columns';

/**
 * The PDF DevPos gives with a document, attached to its QuickBooks entity (issue 10): whether it was (attached,
 * failed, none to attach; null: not tried yet), the Attachable's id, and why attaching failed (a warning on the
 * document; the document itself is synced). A company may choose not to attach PDFs (accounting_settings.attach_pdf).
 */
export class AddAttachmentsToAccountingDocuments1763700000023 implements MigrationInterface {
  name = 'AddAttachmentsToAccountingDocuments1763700000023';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('accounting_documents', [
      new TableColumn({ name: 'attachment_status', type: 'varchar', length: '16', isNullable: true }),
      new TableColumn({ name: 'attachment_id', type: 'varchar', length: '32', isNullable: true }),
      new TableColumn({ name: 'attachment_warning', type: 'varchar', length: '500', isNullable: true }),
    ]);
    await queryRunner.addColumn('accounting_settings', new TableColumn(columns(queryRunner).bool('attach_pdf', true)));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('accounting_settings', 'attach_pdf');
    await queryRunner.dropColumn('accounting_documents', 'attachment_warning');
    await queryRunner.dropColumn('accounting_documents', 'attachment_id');
    await queryRunner.dropColumn('accounting_documents', 'attachment_status');
  }
}
