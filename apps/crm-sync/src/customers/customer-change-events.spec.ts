import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AppConfig, loadConfig } from '@sync-hub/config';
import { ROBAWS_CUSTOMER_RECORD_FIELDS, RobawsCustomerChangedPayload, Topic } from '@sync-hub/contracts';
import { EnqueuedBatch, OutgoingMessage, ReliablePublisher } from '@sync-hub/messaging';
import { OutboxMessage, SyncCursor } from '@sync-hub/persistence';
import { RobawsClient, RobawsSimulator } from '@sync-hub/simulators';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { RecordingBus } from '../../../../test/support/recording-bus';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { ClientPageOptions, RobawsApiClient, RobawsPage } from '../robaws/robaws-api.client';
import { applyEdit } from './customer-edits';
import { CustomerPullService } from './customer-pull.service';
import { CustomerPushService } from './customer-push.service';
import { customerView } from './customer-views';
import { RobawsClientRecord } from './normalise';
import { RobawsCustomer } from './robaws-customer.entity';

/** The events sent, by Robaws client id (the last of each). */
const changesById = (bus: RecordingBus<RobawsCustomerChangedPayload>): Map<number, RobawsCustomerChangedPayload> =>
  new Map(bus.payloads().map((c) => [Number(c.id), c]));

/** The outbox, whose next `enqueueBatch` (inside the write's transaction) fails with `failNext` when set. */
class FailingOutbox extends ReliablePublisher {
  failNext: (() => Error) | null = null;

  override async enqueueBatch(
    manager: EntityManager,
    topic: string,
    messages: OutgoingMessage[],
    now?: Date,
  ): Promise<EnqueuedBatch> {
    const batch = await super.enqueueBatch(manager, topic, messages, now);
    const fail = this.failNext;
    this.failNext = null;
    // After its rows are written: the transaction rolls back the customers and the events together.
    if (fail) throw fail();
    return batch;
  }
}

/** Robaws's list, less the clients hidden from it (a page shifted by a deletion mid-run); GETs still find them. */
class ListHidingClient extends RobawsApiClient {
  readonly hidden = new Set<number>();

  override async *clientPages(options: ClientPageOptions): AsyncGenerator<RobawsPage> {
    for await (const page of super.clientPages(options))
      yield { ...page, items: page.items.filter((c) => !this.hidden.has(Number(c.id))) };
  }
}

/** A client as a webhook's delivery carries it (the JSON of the simulator's record). */
const delivered = (client: RobawsClient): RobawsClientRecord =>
  JSON.parse(JSON.stringify(client)) as RobawsClientRecord;

const CLIENTS = 30;
const RUN = '3f6c1d2e-8a7b-4c0e-9f3e-6b2d8c4a1f00';
const RUN2 = '3f6c1d2e-8a7b-4c0e-9f3e-6b2d8c4a1f01';

const deadlock = () =>
  new QueryFailedError(
    'INSERT …',
    [],
    Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK' }),
  );

describe('Robaws customer change events (crm.robaws.customer.changed.v1)', () => {
  let db: DataSource;
  let sim: RobawsSimulator;
  let bus: RecordingBus<RobawsCustomerChangedPayload>;
  let outbox: FailingOutbox;
  let robaws: ListHidingClient;
  let config: AppConfig;
  let simUrl: string;

  before(async () => {
    db = await inMemoryDatabase([RobawsCustomer, SyncCursor]);
  });
  after(async () => {
    await robaws?.close();
    await sim?.stop();
    await db.destroy();
  });
  afterEach(() => assert.deepEqual(bus.invalid, [], 'every event passes the contract'));
  beforeEach(async () => {
    await db.getRepository(RobawsCustomer).clear();
    await db.getRepository(SyncCursor).clear();
    await db.getRepository(OutboxMessage).clear();
    await robaws?.close();
    await sim?.stop();
    sim = new RobawsSimulator({ clients: CLIENTS, seed: 16, rateLimit: { enabled: false } });
    simUrl = await sim.start();
    bus = new RecordingBus(RobawsCustomerChangedPayload);
    outbox = new FailingOutbox(bus, db.getRepository(OutboxMessage));
    config = configWith();
    robaws = new ListHidingClient(config.crm.robaws, config.http);
  });

  const configWith = (env: Record<string, string> = {}) =>
    loadConfig('crm-sync', {
      ROBAWS_URL: simUrl,
      ROBAWS_API_KEY: sim.apiKey,
      ROBAWS_API_SECRET: sim.apiSecret,
      ROBAWS_PAGE_SIZE: '10',
      ROBAWS_REQUESTS_PER_SECOND: '0',
      HTTP_RETRIES: '0',
      HTTP_RETRY_BASE_DELAY_MS: '1',
      ...env,
    });
  const pullService = (c = config) => new CustomerPullService(robaws, db, c, outbox);
  const pushService = (c = config) => new CustomerPushService(robaws, db, c, outbox);

  /** The stored customers as the CRM API shows them, less the local edit, the conflict and the bookkeeping. */
  const storedRecords = async () =>
    new Map(
      (await db.getRepository(RobawsCustomer).find()).map((row) => {
        const { local_edit: _e, conflict: _c, dirty: _d, synced_at: _s, pushed_at: _p, ...record } = customerView(row);
        return [row.robawsId, record];
      }),
    );

  it('a first pull sends one created event per customer, keyed by its id, carrying its record as the API shows it', async () => {
    const { stats } = await pullService().pull({ mode: 'full', runId: RUN });
    assert.equal(stats.created, CLIENTS);
    const stored = await storedRecords();
    assert.equal(bus.sent.length, CLIENTS);
    assert.ok(bus.sent.every((m) => m.topic === Topic.RobawsCustomerChanged));
    for (const { key, value } of bus.sent) {
      const change = value.payload;
      assert.equal(change.changeType, 'created');
      assert.equal(key, change.id);
      assert.equal(change.runId, RUN);
      assert.equal(value.runId, RUN);
      assert.deepEqual(change.changedFields, [...ROBAWS_CUSTOMER_RECORD_FIELDS], 'every field of a new record');
      assert.deepEqual({ ...change.record }, stored.get(Number(key)));
    }
    assert.equal(new Set(bus.sent.map((m) => m.key)).size, CLIENTS, 'one event per customer');
    assert.equal(await db.getRepository(OutboxMessage).count(), 0, 'the outbox is empty once they are sent');
  });

  it('a re-run with nothing changed sends nothing; changes send updated, created and deactivated with their fields', async () => {
    await pullService().pull({ mode: 'full', runId: RUN });
    bus.sent.length = 0;
    await pullService().pull({ mode: 'full', runId: RUN2 });
    await pullService().pull({ mode: 'incremental', runId: RUN2 });
    assert.equal(bus.sent.length, 0, 'nothing changed, nothing sent');

    // A rewrite the record does not show (here: a hash that no longer matches) is no change to it.
    await db.query("UPDATE robaws_customers SET content_hash = 'stale' WHERE robaws_id = 1003");
    const rewrite = await pullService().pull({ mode: 'full', runId: RUN2 });
    assert.equal(rewrite.stats.updated, 1);
    assert.equal(bus.sent.length, 0, 'rewritten with equal record fields: nothing sent');

    const before = await storedRecords();
    sim.updateClient(1004, { email: 'Renamed@Example.com' });
    const added = sim.createClient({ name: 'New Client' });
    sim.removeClient(1005);
    sim.removeClient(1006);
    // 1007 changed, and missing from the list (shifted pages): the full pull's check finds it with a GET.
    sim.updateClient(1007, { name: 'Found By Its Check' });
    robaws.hidden.add(1007);
    const { stats } = await pullService().pull({ mode: 'full', runId: RUN2 });
    assert.deepEqual([stats.updated, stats.created, stats.deletedUpstream], [1, 1, 2]);
    const stored = await storedRecords();
    const byId = changesById(bus);
    assert.equal(bus.sent.length, 5);
    assert.ok(bus.payloads().every((c) => c.runId === RUN2));

    const updated = byId.get(1004)!;
    assert.equal(updated.changeType, 'updated');
    assert.deepEqual(updated.changedFields, ['email', 'upstream_updated_at']);
    assert.equal(updated.record.email, 'renamed@example.com');
    assert.deepEqual({ ...updated.record }, stored.get(1004));
    assert.notDeepEqual(stored.get(1004), before.get(1004));

    const checked = byId.get(1007)!;
    assert.equal(checked.changeType, 'updated');
    assert.deepEqual(checked.changedFields, ['name', 'upstream_updated_at']);
    assert.deepEqual({ ...checked.record }, stored.get(1007));

    assert.equal(byId.get(added.id)!.changeType, 'created');
    assert.deepEqual({ ...byId.get(added.id)!.record }, stored.get(added.id));
    for (const id of [1005, 1006]) {
      const gone = byId.get(id)!;
      assert.equal(gone.changeType, 'deactivated');
      assert.deepEqual(gone.changedFields, ['deleted_upstream']);
      assert.equal(gone.record.deleted_upstream, true);
      assert.deepEqual({ ...gone.record }, stored.get(id));
    }

    bus.sent.length = 0;
    robaws.hidden.clear();
    await pullService().pull({ mode: 'full', runId: RUN });
    assert.equal(bus.sent.length, 0, 'those marked already are not deactivated again');
  });

  it('one client pulled by id: updated, then deactivated when Robaws answers 404; nothing when already marked', async () => {
    await pullService().pull({ mode: 'full', runId: RUN });
    bus.sent.length = 0;
    sim.updateClient(1010, { website: 'https://one.example' });
    const one = await pullService().pull({ mode: 'incremental', clientId: 1010, runId: RUN2 });
    assert.equal(one.stats.updated, 1);
    assert.equal(bus.sent.length, 1);
    assert.equal(bus.payloads()[0].changeType, 'updated');
    assert.deepEqual(bus.payloads()[0].changedFields, ['website', 'upstream_updated_at']);
    assert.equal(bus.payloads()[0].runId, RUN2);

    sim.removeClient(1010);
    const gone = await pullService().pull({ mode: 'incremental', clientId: 1010, runId: RUN2 });
    assert.equal(gone.stats.deletedUpstream, 1);
    assert.equal(bus.sent.length, 2);
    const deactivated = bus.payloads()[1];
    assert.deepEqual([deactivated.changeType, deactivated.changedFields], ['deactivated', ['deleted_upstream']]);
    assert.deepEqual({ ...deactivated.record }, (await storedRecords()).get(1010));
    assert.equal(deactivated.record.deleted_upstream, true);

    const again = await pullService().pull({ mode: 'incremental', clientId: 1010, runId: RUN2 });
    assert.equal(again.stats.deletedUpstream, 0);
    assert.equal(bus.sent.length, 2, 'already marked: nothing sent');
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);
  });

  it('a webhook delivery sends its event without a run id; an older delivery arriving late sends nothing', async () => {
    await pullService().pull({ mode: 'full', runId: RUN });
    bus.sent.length = 0;
    const older = sim.client(1012)!;
    const newer = sim.updateClient(1012, { tel: '+32 9 123 45 67' });
    assert.equal(await pullService().applyRecord(delivered(newer)), 'updated');
    assert.equal(bus.sent.length, 1);
    const { value } = bus.sent[0];
    assert.equal(value.payload.runId, null);
    assert.equal(value.runId, undefined, 'no run in the envelope either');
    assert.equal(value.payload.changeType, 'updated');
    assert.ok(value.payload.changedFields.includes('tel'), value.payload.changedFields.join());
    assert.deepEqual({ ...value.payload.record }, (await storedRecords()).get(1012));

    assert.equal(await pullService().applyRecord(delivered(older)), 'older');
    assert.equal(await pullService().applyRecord(delivered(newer)), 'unchanged', 'a redelivery');
    assert.equal(bus.sent.length, 1, 'neither sends anything');

    const created = sim.createClient({ name: 'Born In A Webhook' });
    assert.equal(await pullService().applyRecord(delivered(created)), 'created');
    assert.equal(bus.payloads()[1].changeType, 'created');
    assert.equal(bus.payloads()[1].runId, null);
  });

  it('a local edit sends nothing; its push sends the fields it changed, Robaws answer stored; a push to a gone client deactivates it', async () => {
    await pullService().pull({ mode: 'full', runId: RUN });
    bus.sent.length = 0;
    const repo = db.getRepository(RobawsCustomer);
    // The edit as PATCH /api/crm/customers/:id writes it: the row's columns and its pending edit, no event.
    for (const [id, name] of [
      [1015, 'Locally Renamed'],
      [1016, 'Renamed Too'],
    ] as const) {
      const row = await repo.findOneByOrFail({ robawsId: id });
      const edit = applyEdit(row, { name }, 'BE', new Date());
      await repo.update({ robawsId: id }, { ...edit.columns, localDirty: edit.localDirty });
    }
    sim.removeClient(1016);

    const { stats } = await pushService().push({ runId: RUN2 });
    assert.deepEqual([stats.pushed, stats.failed], [1, 1]);
    const stored = await storedRecords();
    const byId = changesById(bus);
    assert.equal(bus.sent.length, 2);
    const pushed = byId.get(1015)!;
    assert.equal(pushed.changeType, 'updated');
    assert.equal(pushed.runId, RUN2);
    assert.deepEqual(pushed.changedFields, ['name', 'upstream_updated_at'], 'the edit, compared with Robaws before it');
    assert.equal(pushed.record.name, 'Locally Renamed');
    assert.deepEqual({ ...pushed.record }, stored.get(1015));
    const gone = byId.get(1016)!;
    assert.deepEqual([gone.changeType, gone.changedFields], ['deactivated', ['deleted_upstream']]);
    assert.deepEqual({ ...gone.record }, stored.get(1016));

    bus.sent.length = 0;
    await pullService().pull({ mode: 'incremental', runId: RUN });
    assert.equal(bus.sent.length, 0, 'the pull after the push finds Robaws as stored');
    await pushService().push({ runId: RUN });
    assert.equal(bus.sent.length, 0, 'nothing left to push');
  });

  it('none with CHANGE_EVENTS without crm, in a dry run, or without a run id', async () => {
    const off = configWith({ CHANGE_EVENTS: 'splynx,accounting,usage' });
    await pullService(off).pull({ mode: 'full', runId: RUN });
    assert.equal(await db.getRepository(RobawsCustomer).count(), CLIENTS, 'the pull ran all the same');
    await pullService(off).applyRecord(delivered(sim.updateClient(1020, { name: 'Webhook With Events Off' })));
    await db.getRepository(RobawsCustomer).clear();
    await pullService(configWith({ CHANGE_EVENTS: 'none' })).pull({ mode: 'full', runId: RUN });
    await db.getRepository(RobawsCustomer).clear();
    await pullService().pull({ mode: 'full', runId: RUN, dryRun: true });
    assert.equal(await db.getRepository(RobawsCustomer).count(), 0, 'a dry run writes nothing');
    await pullService().pull({ mode: 'full' });
    await pullService().pull({ mode: 'incremental', clientId: 1020, runId: RUN, dryRun: true });

    const row = await db.getRepository(RobawsCustomer).findOneByOrFail({ robawsId: 1021 });
    const edit = applyEdit(row, { city: 'Brugge' }, 'BE', new Date());
    await db.getRepository(RobawsCustomer).update({ robawsId: 1021 }, { ...edit.columns, localDirty: edit.localDirty });
    await pushService().push({ runId: RUN, dryRun: true });
    await pushService(off).push({ runId: RUN });
    assert.equal((await db.getRepository(RobawsCustomer).findOneByOrFail({ robawsId: 1021 })).localDirty, null);
    assert.equal(bus.sent.length, 0);
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);
  });

  it('while the bus is down the events wait in the outbox, committed with their batch, and go out after', async () => {
    bus.down = true;
    assert.equal((await pullService().pull({ mode: 'full', runId: RUN })).stats.created, CLIENTS);
    assert.equal(await pullService().applyRecord(delivered(sim.updateClient(1001, { name: 'While Down' }))), 'updated');
    assert.equal(bus.sent.length, 0);
    assert.equal((await outbox.depth()).pending, CLIENTS + 1, 'every event kept');
    bus.down = false;
    assert.equal(await outbox.flush(new Date(Date.now() + 3600_000)), CLIENTS + 1);
    assert.deepEqual(
      bus.payloads().map((c) => c.changeType),
      [...Array<string>(CLIENTS).fill('created'), 'updated'],
      'in commit order',
    );
  });

  it('a batch whose events cannot be written is not written either; one retried after a deadlock sends its events once', async () => {
    outbox.failNext = () => new Error('disk full');
    await assert.rejects(pullService().pull({ mode: 'full', runId: RUN }), /disk full/);
    assert.equal(await db.getRepository(RobawsCustomer).count(), 0, 'the customers rolled back with their events');
    assert.equal(await db.getRepository(OutboxMessage).count(), 0);

    outbox.failNext = deadlock;
    const { stats } = await pullService().pull({ mode: 'full', runId: RUN });
    assert.equal(stats.created, CLIENTS, 'counted once');
    assert.equal(bus.sent.length, CLIENTS);
    assert.equal(new Set(bus.sent.map((m) => m.key)).size, CLIENTS, 'one event per customer, none twice');
    assert.ok(bus.payloads().every((c) => c.changeType === 'created'));

    bus.sent.length = 0;
    outbox.failNext = () => new Error('disk full');
    await assert.rejects(pullService().applyRecord(delivered(sim.updateClient(1002, { name: 'Lost' }))), /disk full/);
    assert.notEqual((await storedRecords()).get(1002)!.name, 'Lost', 'the webhook write rolled back too');
    assert.equal(bus.sent.length, 0);
  });
});
