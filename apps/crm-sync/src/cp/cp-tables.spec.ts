import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SyncCursor } from '@sync-hub/persistence';
import { CP_TABLES } from '@sync-hub/simulators';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { exportRequest, readExportAnswer } from './cp-export.client';
import { toStoredRow } from './cp-rows';
import {
  CP_ENTITIES,
  CP_TABLE_SPECS,
  cpEntity,
  cpTableSpec,
  exportStream,
  reconcileStream,
  writtenColumns,
} from './cp-tables';

const SOURCES = CP_TABLE_SPECS.map((s) => s.source);

describe('the loyalty-club table specs', () => {
  let ds: DataSource;
  before(async () => {
    ds = await inMemoryDatabase([...CP_ENTITIES, SyncCursor]);
  });
  after(() => ds.destroy());

  it("are the seed's seven tables, in its order, with its primary keys and destinations", () => {
    assert.deepEqual(
      CP_TABLE_SPECS.map((s) => [s.source, s.primaryKey, s.destination]),
      [
        ['client', 'client_id', 'clients'],
        ['client_abonnement', 'client_abonnement_id', 'client_abonnements'],
        ['history', 'history_id', 'histories'],
        ['promotion_pass_orders', 'id', 'promotion_pass_orders'],
        ['promotion_pass_vendu', 'id', 'promotion_pass_vendus'],
        ['partner', 'partner_id', 'partners'],
        ['promotion', 'promotion_id', 'promotions'],
      ],
    );
    assert.deepEqual(CP_TABLE_SPECS.map((s) => [exportStream(s), reconcileStream(s)]).slice(0, 1), [
      ['cp.client', 'cp.reconcile.client'],
    ]);
    assert.equal(cpTableSpec('history')?.hasUpdatedAt, false);
    assert.equal(cpTableSpec('members'), undefined);
  });

  it('declare every column of the contract (docs/cp-export-api.md), typed as the contract types it', () => {
    const asContract = {
      int: 'int',
      string: 'string',
      text: 'string',
      decimal: 'decimal',
      date: 'date',
      datetime: 'datetime',
      flag: 'flag',
    };
    for (const contract of CP_TABLES) {
      const spec = cpTableSpec(contract.name)!;
      assert.equal(spec.primaryKey, contract.primaryKey, contract.name);
      const declared = [
        [spec.primaryKey, 'int', false],
        ...spec.columns.map((c) => [c.name, asContract[c.type], c.nullable ?? false]),
        ...(spec.hasUpdatedAt ? [['updated_at', 'datetime', false]] : []),
      ].sort();
      const published = contract.columns.map((c) => [c.name, c.type, c.nullable ?? false]).sort();
      assert.deepEqual(declared, published, contract.name);
    }
  });

  it('match the migrated destinations column for column: the spec entry and its migration agree', async () => {
    const runner = ds.createQueryRunner();
    try {
      for (const spec of CP_TABLE_SPECS) {
        const table = await runner.getTable(spec.destination);
        assert.ok(table, `${spec.destination} exists`);
        const migrated = table.columns.map((c) => [c.name, c.isNullable, c.isPrimary]).sort();
        const entity = ds
          .getMetadata(cpEntity(spec))
          .columns.map((c) => [c.databaseName, c.isNullable, c.isPrimary])
          .sort();
        assert.deepEqual(migrated, entity, spec.destination);
        assert.deepEqual(
          entity
            .map((c) => c[0])
            .filter((name) => name !== spec.primaryKey)
            .sort(),
          [...writtenColumns(spec)].sort(),
          `${spec.destination}: the upsert writes every column but the key`,
        );
      }
    } finally {
      await runner.release();
    }
  });

  it('store a row of each table as the contract serves it, with its undeclared columns in the JSON copy', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const client = {
      client_id: 7,
      nom: 'Martin',
      prenom: 'Léa',
      email: null,
      telephone: '06 12 34 56 78',
      ville: 'Nice',
      code_postal: '06000',
      date_naissance: '1990-02-28',
      points: 120,
      created_at: '2024-05-01 10:00:00',
      updated_at: '2024-06-01 08:30:15',
      newsletter: 1,
    };
    const stored = toStoredRow(cpTableSpec('client')!, client, at);
    assert.ok(stored.ok);
    assert.deepEqual(stored.row.values, {
      client_id: 7,
      nom: 'Martin',
      prenom: 'Léa',
      email: null,
      telephone: '06 12 34 56 78',
      ville: 'Nice',
      code_postal: '06000',
      date_naissance: '1990-02-28',
      points: 120,
      created_at: new Date('2024-05-01T10:00:00Z'),
      source_updated_at: new Date('2024-06-01T08:30:15Z'),
      synced_at: at,
    });
    assert.deepEqual(JSON.parse(stored.row.json), client, 'the whole row, newsletter included');
    const sale = toStoredRow(
      cpTableSpec('promotion_pass_vendu')!,
      {
        id: 3,
        order_id: 2,
        promotion_id: 1,
        code: 'CP-AB12-CD34',
        utilise: 0,
        date_utilisation: null,
        created_at: '2024-01-01 00:00:00',
        updated_at: '2024-01-01 00:00:00',
      },
      at,
    );
    assert.ok(sale.ok);
    assert.equal(sale.row.values.utilise, false);
  });

  it('refuse a row without its primary key, or with a declared column missing or of the wrong type, saying which', () => {
    const spec = cpTableSpec('history')!;
    const good = {
      history_id: 9,
      client_id: 1,
      type: 'visite',
      description: 'Visite',
      points: 5,
      created_at: '2024-01-01 00:00:00',
    };
    assert.ok(toStoredRow(spec, good, new Date()).ok);
    const cases: Array<[unknown, number | null, RegExp]> = [
      [{ ...good, history_id: undefined }, null, /no readable primary key history_id/],
      [{ ...good, history_id: 'abc' }, null, /no readable primary key/],
      [{ ...good, history_id: -4 }, null, /no readable primary key/],
      [{ ...good, points: 'beaucoup' }, 9, /points: not a whole number \("beaucoup"\)/],
      [{ ...good, type: null }, 9, /type: null/],
      [{ ...good, created_at: '2024-02-30 00:00:00' }, 9, /created_at: not a date-time/],
      [{ ...good, description: undefined, points: 1.5 }, 9, /description: missing; points: not a whole number/],
      ['not a row', null, /not an object/],
    ];
    for (const [row, id, reason] of cases) {
      const result = toStoredRow(spec, row, new Date());
      assert.equal(result.ok, false, JSON.stringify(row));
      if (!result.ok) {
        assert.equal(result.id, id);
        assert.match(result.reason, reason);
      }
    }
    const amounts = cpTableSpec('client_abonnement')!;
    const sub = {
      client_abonnement_id: 1,
      client_id: 1,
      formule: 'Essentiel',
      montant: '49.90',
      date_debut: '2024-01-01',
      date_fin: '2024-12-31',
      statut: 'actif',
      created_at: '2024-01-01 00:00:00',
      updated_at: '2024-01-01 00:00:00',
    };
    assert.ok(toStoredRow(amounts, sub, new Date()).ok);
    assert.match(
      (toStoredRow(amounts, { ...sub, montant: '49,90' }, new Date()) as { reason: string }).reason,
      /montant: not an amount/,
    );
    assert.match(
      (toStoredRow(amounts, { ...sub, date_fin: '31/12/2024' }, new Date()) as { reason: string }).reason,
      /date_fin: not a date/,
    );
  });
});

describe('the export request and answer', () => {
  it('asks for every table from its cursor, 0 for a table never synced, with the limit', () => {
    assert.deepEqual(
      exportRequest(
        SOURCES,
        new Map([
          ['client', 1200],
          ['history', 53077],
        ]),
        1000,
      ),
      {
        cursors: {
          client: 1200,
          client_abonnement: 0,
          history: 53077,
          promotion_pass_orders: 0,
          promotion_pass_vendu: 0,
          partner: 0,
          promotion: 0,
        },
        limit: 1000,
      },
    );
    assert.equal(JSON.stringify(exportRequest(['client'], new Map(), 1)), '{"cursors":{"client":0},"limit":1}');
  });

  it('reads an answer: a table absent or empty has no rows, has_more defaults to false', () => {
    const answer = readExportAnswer(
      { data: { client: [{ client_id: 1 }], partner: [] }, has_more: { client: true } },
      SOURCES,
    );
    assert.deepEqual(answer.data.client, [{ client_id: 1 }]);
    assert.deepEqual(answer.data.partner, []);
    assert.deepEqual(answer.data.history, []);
    assert.equal(answer.hasMore.client, true);
    assert.equal(answer.hasMore.partner, false);
    assert.deepEqual(readExportAnswer({}, ['client']), { data: { client: [] }, hasMore: { client: false } });
  });

  it('refuses an answer of another shape as a bad response, naming what is wrong', () => {
    for (const [body, why] of [
      [null, /no JSON object/],
      [[], /no JSON object/],
      [{ data: [] }, /`data` that is not an object/],
      [{ data: { client: {} } }, /`data.client` that is not a list/],
      [{ data: {}, has_more: 'yes' }, /`has_more` that is not an object/],
    ] as Array<[unknown, RegExp]>)
      assert.throws(
        () => readExportAnswer(body, SOURCES),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'UPSTREAM_BAD_RESPONSE');
          assert.match(err.message, why);
          return true;
        },
      );
  });
});
