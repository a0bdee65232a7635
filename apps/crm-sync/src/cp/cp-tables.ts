import { EntitySchema, EntitySchemaColumnOptions } from 'typeorm';

/**
 * The loyalty-club export's tables (issue 12, seed 002), one entry each: the source table and its primary key, the
 * destination table, and the typed columns the project declares for it (docs/cp-export-api.md). Every destination
 * also has the source primary key as its primary key, `source_row` (the whole source row as JSON, so no upstream
 * column is ever lost), `source_updated_at` (the row's `updated_at`, where it has one) and `synced_at`.
 *
 * Adding a table is one entry here and one migration creating its destination (docs/decisions.md, "Loyalty-club
 * export"); the export asks for it, its cursor `cp.<source>` starts at 0, and `cp:sync --state` lists it.
 */

/**
 * How a declared column is typed: `int` a whole number; `string` text up to `length` (default 255); `text` longer
 * text; `decimal` a fixed-point amount kept exact (12,2); `date` YYYY-MM-DD; `datetime` YYYY-MM-DD HH:mm:ss in UTC;
 * `flag` 0 or 1 (stored as a boolean).
 */
export type CpColumnType = 'int' | 'string' | 'text' | 'decimal' | 'date' | 'datetime' | 'flag';

export interface CpColumnSpec {
  name: string;
  type: CpColumnType;
  nullable?: boolean;
  length?: number;
}

export interface CpTableSpec {
  /** The table's name in the export API (`cursors`, `data`, `has_more`) and in its cursor's stream `cp.<source>`. */
  source: string;
  /** The source's primary key; the destination's primary key, under the same name. */
  primaryKey: string;
  destination: string;
  /** The declared columns besides the primary key (and besides `updated_at`, which becomes `source_updated_at`). */
  columns: readonly CpColumnSpec[];
  /** Whether source rows carry `updated_at` (`history` is an immutable log and has none). */
  hasUpdatedAt: boolean;
}

const int = (name: string): CpColumnSpec => ({ name, type: 'int' });
const str = (name: string, nullable = false, length?: number): CpColumnSpec => ({
  name,
  type: 'string',
  ...(nullable ? { nullable } : {}),
  ...(length ? { length } : {}),
});
const created: CpColumnSpec = { name: 'created_at', type: 'datetime' };

export const CP_TABLE_SPECS: readonly CpTableSpec[] = [
  {
    source: 'client',
    primaryKey: 'client_id',
    destination: 'clients',
    columns: [
      str('nom'),
      str('prenom'),
      str('email', true),
      str('telephone', true, 64),
      str('ville', false, 128),
      str('code_postal', false, 16),
      { name: 'date_naissance', type: 'date', nullable: true },
      int('points'),
      created,
    ],
    hasUpdatedAt: true,
  },
  {
    source: 'client_abonnement',
    primaryKey: 'client_abonnement_id',
    destination: 'client_abonnements',
    columns: [
      int('client_id'),
      str('formule', false, 128),
      { name: 'montant', type: 'decimal' },
      { name: 'date_debut', type: 'date' },
      { name: 'date_fin', type: 'date' },
      str('statut', false, 32),
      created,
    ],
    hasUpdatedAt: true,
  },
  {
    source: 'history',
    primaryKey: 'history_id',
    destination: 'histories',
    columns: [int('client_id'), str('type', false, 32), { name: 'description', type: 'text' }, int('points'), created],
    hasUpdatedAt: false,
  },
  {
    source: 'promotion_pass_orders',
    primaryKey: 'id',
    destination: 'promotion_pass_orders',
    columns: [
      int('client_id'),
      int('promotion_id'),
      int('quantite'),
      { name: 'montant_total', type: 'decimal' },
      str('statut', false, 32),
      created,
    ],
    hasUpdatedAt: true,
  },
  {
    source: 'promotion_pass_vendu',
    primaryKey: 'id',
    destination: 'promotion_pass_vendus',
    columns: [
      int('order_id'),
      int('promotion_id'),
      str('code', false, 64),
      { name: 'utilise', type: 'flag' },
      { name: 'date_utilisation', type: 'datetime', nullable: true },
      created,
    ],
    hasUpdatedAt: true,
  },
  {
    source: 'partner',
    primaryKey: 'partner_id',
    destination: 'partners',
    columns: [
      str('nom'),
      str('categorie', false, 64),
      str('ville', false, 128),
      str('email', true),
      str('telephone', true, 64),
      { name: 'actif', type: 'flag' },
      created,
    ],
    hasUpdatedAt: true,
  },
  {
    source: 'promotion',
    primaryKey: 'promotion_id',
    destination: 'promotions',
    columns: [
      int('partner_id'),
      str('titre'),
      { name: 'description', type: 'text' },
      int('reduction_pct'),
      { name: 'date_debut', type: 'date' },
      { name: 'date_fin', type: 'date' },
      { name: 'actif', type: 'flag' },
      created,
    ],
    hasUpdatedAt: true,
  },
];

/** The stream in `sync_cursors` holding a table's export cursor (the last id stored). */
export const exportStream = (spec: CpTableSpec): string => `cp.${spec.source}`;
/** The weekly reconcile's own cursor, so that it leaves the export's alone. */
export const reconcileStream = (spec: CpTableSpec): string => `cp.reconcile.${spec.source}`;

export function cpTableSpec(source: string): CpTableSpec | undefined {
  return CP_TABLE_SPECS.find((t) => t.source === source);
}

/** The columns an upsert writes besides the primary key, in the destination's names. */
export function writtenColumns(spec: CpTableSpec): string[] {
  return [
    ...spec.columns.map((c) => c.name),
    'source_row',
    ...(spec.hasUpdatedAt ? ['source_updated_at'] : []),
    'synced_at',
  ];
}

function columnOptions(column: CpColumnSpec): EntitySchemaColumnOptions {
  const nullable = column.nullable ?? false;
  switch (column.type) {
    case 'int':
      return { type: 'int', nullable };
    case 'string':
      return { type: 'varchar', length: column.length ?? 255, nullable };
    case 'text':
      return { type: 'text', nullable };
    case 'decimal':
      // Read back as a string on MariaDB (exact); the value written is the source's own text.
      return { type: 'decimal', precision: 12, scale: 2, nullable };
    case 'date':
      return { type: 'date', nullable };
    case 'datetime':
      return { type: 'datetime', precision: 3, nullable };
    case 'flag':
      return { type: 'boolean', nullable };
  }
}

const schemas = new Map<string, EntitySchema>();

/**
 * The destination as a TypeORM entity, built from its spec entry (so a new table needs no entity class). Properties
 * are named as the columns are.
 */
export function cpEntity(spec: CpTableSpec): EntitySchema {
  let schema = schemas.get(spec.destination);
  if (!schema) {
    const columns: Record<string, EntitySchemaColumnOptions> = {
      [spec.primaryKey]: { type: 'int', primary: true },
    };
    for (const column of spec.columns) columns[column.name] = columnOptions(column);
    columns.source_row = { type: 'simple-json' };
    if (spec.hasUpdatedAt) columns.source_updated_at = { type: 'datetime', precision: 3, nullable: true };
    columns.synced_at = { type: 'datetime', precision: 3 };
    schema = new EntitySchema({ name: `cp_${spec.destination}`, tableName: spec.destination, columns });
    schemas.set(spec.destination, schema);
  }
  return schema;
}

export const CP_ENTITIES: readonly EntitySchema[] = CP_TABLE_SPECS.map(cpEntity);
