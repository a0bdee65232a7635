import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { CHANGE_EVENT_TOPICS, LOYALTY_CHANGE_TOPICS, LoyaltyRowChangedPayload, Topic } from '@sync-hub/contracts';
import { EnqueuedBatch, EventPublisher, OutgoingMessage, ReliablePublisher } from '@sync-hub/messaging';
import { OutboxMessage, SyncCursor } from '@sync-hub/persistence';
import { CpExportSimulator, CpRow, CpTable } from '@sync-hub/simulators';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { RecordingBus } from '../../../../test/support/recording-bus';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { CpExportClient } from './cp-export.client';
import { CpExportService, loyaltyChangeTopic } from './cp-export.service';
import { changedSourceColumns } from './cp-rows';
import { CP_ENTITIES, CP_TABLE_SPECS, cpEntity, CpTableSpec, cpTableSpec, exportStream } from './cp-tables';

/** An outbox whose batch of one table fails after its insert: the table round's transaction must roll back whole. */
class FailingOutbox extends ReliablePublisher {
  constructor(
    publisher: EventPublisher,
    outbox: Repository<OutboxMessage>,
    private readonly failOn: Topic,
  ) {
    super(publisher, outbox);
  }
  override async enqueueBatch(
    manager: EntityManager,
    topic: string,
    messages: OutgoingMessage[],
    now?: Date,
  ): Promise<EnqueuedBatch> {
    const batch = await super.enqueueBatch(manager, topic, messages, now);
    if (topic === this.failOn) throw new Error('the connection was lost mid-transaction');
    return batch;
  }
}

const RUN = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a40';
const RUN2 = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a41';
const ROWS = 12;
const LIMIT = 5;
const TABLES = CP_TABLE_SPECS.map((s) => s.source as CpTable);
const specOf = (table: CpTable): CpTableSpec => cpTableSpec(table)!;
const topicOf = (table: CpTable): Topic => LOYALTY_CHANGE_TOPICS[specOf(table).destination];
/** A row as the export API puts it on the wire (a key set to undefined is left out). */
const wire = (row: CpRow | null): CpRow => JSON.parse(JSON.stringify(row)) as CpRow;

describe('the loyalty-club topics (one per destination table)', () => {
  it('every CP_TABLE_SPECS destination has its topic crm.loyalty.<destination>.changed.v1, published by crm', () => {
    for (const spec of CP_TABLE_SPECS) {
      const topic = LOYALTY_CHANGE_TOPICS[spec.destination];
      assert.ok(topic, `${spec.destination} has no topic in LOYALTY_CHANGE_TOPICS`);
      assert.equal(topic, `crm.loyalty.${spec.destination}.changed.v1`);
      assert.equal(CHANGE_EVENT_TOPICS[topic], 'crm', `${topic} is switched by CHANGE_EVENTS' crm`);
      assert.equal(loyaltyChangeTopic(spec), topic);
    }
    assert.equal(new Set(CP_TABLE_SPECS.map(loyaltyChangeTopic)).size, CP_TABLE_SPECS.length, 'a topic per table');
    assert.deepEqual(
      Object.keys(LOYALTY_CHANGE_TOPICS).sort(),
      CP_TABLE_SPECS.map((s) => s.destination).sort(),
      'no topic for a table the export does not have',
    );
  });

  it('a table without its topic has none to publish on: the run checks every table before its first request', () => {
    const spec: CpTableSpec = { ...CP_TABLE_SPECS[0], source: 'member', destination: 'members' };
    assert.throws(() => loyaltyChangeTopic(spec), /no change-event topic for the table members/);
  });
});

describe('the changed source columns', () => {
  it('every key of a new row, in its order', () => {
    assert.deepEqual(changedSourceColumns({ b: 1, a: null }), ['b', 'a']);
  });

  it('the keys whose JSON values differ, then those that disappeared; a key appearing or disappearing counts, null or not', () => {
    const before = { id: 1, nom: 'Martin', points: 10, email: null, meta: { vu: 1 }, site_web: null };
    assert.deepEqual(changedSourceColumns({ ...before }, before), []);
    assert.deepEqual(changedSourceColumns({ ...before, meta: { vu: 1 } }, before), [], 'compared as JSON values');
    assert.deepEqual(
      changedSourceColumns({ id: 1, nom: 'Martin', points: '10', email: null, meta: { vu: 2 }, fax: null }, before),
      ['points', 'meta', 'fax', 'site_web'],
    );
    // Keys of Object.prototype are no stored keys.
    assert.deepEqual(changedSourceColumns({ constructor: 1, toString: null }, {}), ['constructor', 'toString']);
  });
});

describe('loyalty-club change events (crm.loyalty.<table>.changed.v1)', () => {
  let db: DataSource;
  let sim: CpExportSimulator;
  let bus: RecordingBus<LoyaltyRowChangedPayload>;
  let outbox: ReliablePublisher;
  const clients: CpExportClient[] = [];

  before(async () => {
    db = await inMemoryDatabase([...CP_ENTITIES, SyncCursor]);
  });
  after(async () => {
    await db.destroy();
  });
  beforeEach(async () => {
    for (const spec of CP_TABLE_SPECS) await db.getRepository(cpEntity(spec)).clear();
    await db.getRepository(SyncCursor).clear();
    await db.getRepository(OutboxMessage).clear();
    sim = new CpExportSimulator({ seed: 5, rows: ROWS, token: 'cp-unit-token-0001' });
    await sim.start();
    bus = new RecordingBus(LoyaltyRowChangedPayload);
    outbox = new ReliablePublisher(bus, db.getRepository(OutboxMessage));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await sim.stop();
    assert.deepEqual(bus.invalid, [], 'every event passes the contract');
  });

  /** With `publisher` null, no outbox (an app without the MessagingModule). */
  const serviceWith = (env: Record<string, string> = {}, publisher: ReliablePublisher | null = outbox) => {
    const config = loadConfig('crm-sync', {
      CP_EXPORT_URL: sim.exportUrl,
      CP_EXPORT_TOKEN: sim.token,
      CP_EXPORT_BATCH_LIMIT: String(LIMIT),
      CP_EXPORT_RETRY_ATTEMPTS: '1',
      ...env,
    });
    const client = new CpExportClient(config.crm.cp);
    clients.push(client);
    return new CpExportService(client, db, config, publisher ?? undefined);
  };
  const storedCount = (table: CpTable): Promise<number> => db.getRepository(cpEntity(specOf(table))).count();
  const storedRow = async (table: CpTable, id: number): Promise<CpRow> => {
    const spec = specOf(table);
    const [row] = await db
      .getRepository(cpEntity(spec))
      .createQueryBuilder('t')
      .select('t.source_row', 'json')
      .where(`t.${spec.primaryKey} = :id`, { id })
      .getRawMany<{ json: string }>();
    return JSON.parse(row.json) as CpRow;
  };

  it('a first export sends one created event per row on its table’s topic: keyed by the primary key, the source row as served', async () => {
    const stats = await serviceWith().run({ mode: 'export', runId: RUN });
    assert.equal(stats.created, ROWS * TABLES.length);
    assert.ok(stats.rounds >= 3, 'several rounds (CP_EXPORT_BATCH_LIMIT 5)');
    assert.equal(bus.sent.length, ROWS * TABLES.length);
    for (const table of TABLES) {
      const spec = specOf(table);
      const events = bus.on(topicOf(table));
      const served = sim.rows(table);
      assert.deepEqual(
        events.map((e) => e.key),
        served.map((r) => String(r[spec.primaryKey])),
        `${table}: one event per row, in id order`,
      );
      events.forEach(({ key, change }, i) => {
        assert.equal(change.changeType, 'created');
        assert.equal(change.id, key);
        assert.equal(change.table, spec.destination);
        assert.equal(change.runId, RUN);
        assert.deepEqual(change.record, served[i], `${table} ${key}: the row as the export answered it`);
        assert.deepEqual(change.changedFields, Object.keys(served[i]), 'every column of a new row');
      });
    }
    const [first] = bus.sent;
    assert.equal(first.value.runId, RUN, 'the envelope carries the run too');
    assert.equal(first.value.type, 'crm.loyalty.clients.changed');
    assert.equal(await db.getRepository(OutboxMessage).count(), 0, 'the outbox is empty once they are sent');
  });

  it('a re-run with nothing new, and a reconcile with nothing changed, send nothing', async () => {
    const service = serviceWith();
    await service.run({ mode: 'export', runId: RUN });
    bus.sent.length = 0;
    const again = await service.run({ mode: 'export', runId: RUN2 });
    const reconcile = await service.run({ mode: 'reconcile', runId: RUN2 });
    assert.deepEqual([again.fetched, reconcile.fetched, reconcile.unchanged], [0, ROWS * 7, ROWS * 7]);
    assert.equal(bus.sent.length, 0);
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);
  });

  it('the reconcile sends updated with the columns that changed, a column that disappeared or appeared included; appended rows are created', async () => {
    const service = serviceWith();
    await service.run({ mode: 'export', runId: RUN });
    bus.sent.length = 0;
    sim.update('client', 3, { points: 999_999, updated_at: '2030-01-01 00:00:00' });
    // The export dropped a nullable column and added one it never had.
    sim.update('partner', 4, { email: undefined, fax: '04 93 00 00 00', updated_at: '2030-01-01 00:00:00' });
    const appended = sim.append('history', 2);

    const stats = await service.run({ mode: 'reconcile', runId: RUN2 });
    assert.deepEqual([stats.updated, stats.created], [2, 2]);
    assert.equal(bus.sent.length, 4, 'one event per changed or new row, none for the others');
    assert.ok(bus.sent.every((m) => m.value.payload.runId === RUN2));

    const [client] = bus.on(Topic.LoyaltyClientsChanged);
    const served = wire(sim.row('client', 3));
    assert.equal(client.key, '3');
    assert.equal(client.change.changeType, 'updated');
    assert.deepEqual(
      client.change.changedFields,
      Object.keys(served).filter((k) => k === 'points' || k === 'updated_at'),
    );
    assert.deepEqual(client.change.record, served);
    assert.deepEqual(await storedRow('client', 3), served, 'the event carries what was stored');

    const [partner] = bus.on(Topic.LoyaltyPartnersChanged);
    assert.equal(partner.change.changeType, 'updated');
    assert.deepEqual(partner.change.changedFields, ['updated_at', 'fax', 'email']);
    assert.ok(!('email' in partner.change.record), 'the record is the row as served, without the dropped column');
    assert.deepEqual(partner.change.record, wire(sim.row('partner', 4)));

    const histories = bus.on(Topic.LoyaltyHistoriesChanged);
    assert.deepEqual(
      histories.map((h) => [h.key, h.change.changeType, h.change.table]),
      appended.map((r) => [String(r.history_id), 'created', 'histories']),
    );
  });

  it('a history row corrected upstream (the log is append-only, yet) is stored and sent as updated, as any table’s', async () => {
    const service = serviceWith();
    await service.run({ mode: 'export', runId: RUN });
    bus.sent.length = 0;
    sim.update('history', 2);
    assert.equal((await service.run({ mode: 'reconcile', runId: RUN2 })).updated, 1);
    const [history] = bus.on(Topic.LoyaltyHistoriesChanged);
    assert.deepEqual(
      [history.key, history.change.changeType, history.change.changedFields],
      ['2', 'updated', ['description']],
    );
  });

  it('a round’s rows and its events commit together: a failed transaction leaves neither, and the next run sends them once', async () => {
    const failing = new FailingOutbox(bus, db.getRepository(OutboxMessage), Topic.LoyaltyClientAbonnementsChanged);
    await assert.rejects(serviceWith({}, failing).run({ mode: 'export', runId: RUN }), /lost mid-transaction/);
    // The first round's clients committed before it, with their events; the abonnements' round rolled back whole.
    assert.equal(await storedCount('client'), LIMIT);
    assert.equal(bus.on(Topic.LoyaltyClientsChanged).length, LIMIT);
    assert.equal(await storedCount('client_abonnement'), 0, 'no row without its events');
    assert.equal(bus.on(Topic.LoyaltyClientAbonnementsChanged).length, 0, 'no event without its rows');
    assert.equal(await db.getRepository(OutboxMessage).count(), 0, 'no outbox row left by the rolled-back round');
    const cursor = await db.getRepository(SyncCursor).findOneBy({ stream: exportStream(specOf('client_abonnement')) });
    assert.equal(cursor, null, 'nor its cursor');

    await serviceWith().run({ mode: 'export', runId: RUN2 });
    for (const table of TABLES) {
      const keys = bus.on(topicOf(table)).map((e) => e.key);
      assert.equal(keys.length, ROWS, `${table}: every row's event`);
      assert.equal(new Set(keys).size, ROWS, `${table}: none twice`);
    }
    assert.deepEqual(
      bus.on(Topic.LoyaltyClientAbonnementsChanged).map((e) => e.change.runId),
      Array(ROWS).fill(RUN2),
    );
  });

  it('while the bus is down the events wait in the outbox, committed with their rounds, and go out after', async () => {
    bus.down = true;
    assert.equal((await serviceWith().run({ mode: 'export', runId: RUN })).created, ROWS * 7);
    assert.equal(bus.sent.length, 0);
    assert.equal((await outbox.depth()).pending, ROWS * 7, 'every event kept');
    bus.down = false;
    assert.equal(await outbox.flush(new Date(Date.now() + 3600_000)), ROWS * 7);
    for (const table of TABLES) assert.equal(bus.on(topicOf(table)).length, ROWS, table);
  });

  it('none with CHANGE_EVENTS without crm (or none), nor without an outbox; the rows are stored all the same', async () => {
    await serviceWith({ CHANGE_EVENTS: 'splynx,accounting,usage' }).run({ mode: 'export', runId: RUN });
    sim.append('client', 3);
    await serviceWith({ CHANGE_EVENTS: 'none' }).run({ mode: 'export', runId: RUN });
    sim.append('client', 2);
    await serviceWith({}, null).run({ mode: 'export', runId: RUN });
    assert.equal(bus.sent.length, 0);
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);
    assert.equal(await storedCount('client'), ROWS + 5);
    for (const table of TABLES.slice(1)) assert.equal(await storedCount(table), ROWS, table);
  });

  it('a run without a run id (outside the run lifecycle) still sends its events, with runId null', async () => {
    await serviceWith().run({ mode: 'export' });
    assert.equal(bus.sent.length, ROWS * 7);
    for (const { value } of bus.sent) {
      assert.equal(value.payload.runId, null);
      assert.equal(value.runId, undefined, 'the envelope has no runId either');
    }
  });
});
