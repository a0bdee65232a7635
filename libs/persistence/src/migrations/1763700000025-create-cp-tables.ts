import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';
import { columns } from './columns';

type Kind = 'int' | 'string' | 'text' | 'decimal' | 'date' | 'datetime' | 'flag';
/** [name, kind, nullable, varchar length]: a copy of the table spec as it stood (a migration never reads today's). */
type Col = [string, Kind, boolean?, number?];

const TABLES: Array<{ name: string; key: string; updatedAt: boolean; columns: Col[] }> = [
  {
    name: 'clients',
    key: 'client_id',
    updatedAt: true,
    columns: [
      ['nom', 'string'],
      ['prenom', 'string'],
      ['email', 'string', true],
      ['telephone', 'string', true, 64],
      ['ville', 'string', false, 128],
      ['code_postal', 'string', false, 16],
      ['date_naissance', 'date', true],
      ['points', 'int'],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'client_abonnements',
    key: 'client_abonnement_id',
    updatedAt: true,
    columns: [
      ['client_id', 'int'],
      ['formule', 'string', false, 128],
      ['montant', 'decimal'],
      ['date_debut', 'date'],
      ['date_fin', 'date'],
      ['statut', 'string', false, 32],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'histories',
    key: 'history_id',
    updatedAt: false,
    columns: [
      ['client_id', 'int'],
      ['type', 'string', false, 32],
      ['description', 'text'],
      ['points', 'int'],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'promotion_pass_orders',
    key: 'id',
    updatedAt: true,
    columns: [
      ['client_id', 'int'],
      ['promotion_id', 'int'],
      ['quantite', 'int'],
      ['montant_total', 'decimal'],
      ['statut', 'string', false, 32],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'promotion_pass_vendus',
    key: 'id',
    updatedAt: true,
    columns: [
      ['order_id', 'int'],
      ['promotion_id', 'int'],
      ['code', 'string', false, 64],
      ['utilise', 'flag'],
      ['date_utilisation', 'datetime', true],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'partners',
    key: 'partner_id',
    updatedAt: true,
    columns: [
      ['nom', 'string'],
      ['categorie', 'string', false, 64],
      ['ville', 'string', false, 128],
      ['email', 'string', true],
      ['telephone', 'string', true, 64],
      ['actif', 'flag'],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'promotions',
    key: 'promotion_id',
    updatedAt: true,
    columns: [
      ['partner_id', 'int'],
      ['titre', 'string'],
      ['description', 'text'],
      ['reduction_pct', 'int'],
      ['date_debut', 'date'],
      ['date_fin', 'date'],
      ['actif', 'flag'],
      ['created_at', 'datetime'],
    ],
  },
];

/**
 * The loyalty-club export's seven destinations (issue 12, seed 002): the source primary key as the primary key, the
 * declared typed columns, `source_row` (the whole source row as JSON), `source_updated_at` where the source has
 * `updated_at`, and `synced_at`. Their cursors are rows of `sync_cursors` (`cp.<table>`, `cp.reconcile.<table>`).
 */
export class CreateCpTables1763700000025 implements MigrationInterface {
  name = 'CreateCpTables1763700000025';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    const column = ([name, kind, nullable = false, length]: Col): TableColumnOptions => {
      switch (kind) {
        case 'int':
          return { name, type: 'int', isNullable: nullable };
        case 'string':
          return { name, type: 'varchar', length: String(length ?? 255), isNullable: nullable };
        case 'text':
          return c.text(name, nullable);
        case 'decimal':
          return { name, type: 'decimal', precision: 12, scale: 2, isNullable: nullable };
        case 'date':
          return { name, type: 'date', isNullable: nullable };
        case 'datetime':
          return c.datetime(name, nullable);
        case 'flag':
          return { name, type: 'boolean', isNullable: nullable };
      }
    };
    for (const table of TABLES)
      await queryRunner.createTable(
        new Table({
          name: table.name,
          columns: [
            { name: table.key, type: 'int', isPrimary: true },
            ...table.columns.map(column),
            c.text('source_row', false),
            ...(table.updatedAt ? [c.datetime('source_updated_at', true)] : []),
            c.datetime('synced_at'),
          ],
        }),
      );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [...TABLES].reverse()) await queryRunner.dropTable(table.name);
    await queryRunner.query("DELETE FROM sync_cursors WHERE stream LIKE 'cp.%'");
  }
}
