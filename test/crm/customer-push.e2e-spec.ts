import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { loadConfig } from '@sync-hub/config';
import { deadLetterTopic, parseEnvelope, RobawsCustomerChangedPayload, Topic } from '@sync-hub/contracts';
import { dataSourceOptions } from '@sync-hub/persistence';
import { RobawsClient, RobawsSimulator } from '@sync-hub/simulators';
import { DataSource } from 'typeorm';
import {
  CustomerPushService,
  EditableValues,
  LocalEdit,
  RobawsApiClient,
  RobawsCustomer,
} from '../../apps/crm-sync/src';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const CLIENTS = 250;
const MERGE_PATCH = 'application/merge-patch+json';
const COLUMNS: Record<keyof EditableValues, string> = {
  name: 'name',
  email: 'email',
  tel: 'tel',
  gsm: 'gsm',
  website: 'website',
  addressLine1: 'address_line1',
  addressLine2: 'address_line2',
  postalCode: 'postal_code',
  city: 'city',
  country: 'country',
  vatNumber: 'vat_number',
  role: 'role',
};

interface Row {
  robaws_id: number;
  name: string | null;
  email: string | null;
  city: string | null;
  role: string | null;
  website: string | null;
  metadata: string;
  local_dirty: string | null;
  conflict: string | null;
  pushed_at: Date | null;
  deleted_upstream: number;
}

describe('robaws.customers.push in the distributed mode (real Kafka, MariaDB, the Robaws simulator over HTTP)', () => {
  let db: TestDatabase;
  let sim: RobawsSimulator;
  let app: AppProcess;
  let entities: DataSource;
  let api: RobawsApiClient;
  let service: CustomerPushService;
  const probe = new KafkaProbe();
  // Clients with a Role extra field and a name, in id order; each test takes its own.
  let pool: RobawsClient[] = [];
  const take = (): RobawsClient => pool.shift()!;

  const row = async (id: number): Promise<Row> =>
    (await db.dataSource.query('SELECT * FROM robaws_customers WHERE robaws_id = ?', [id]))[0];

  /** A local edit as the API's PATCH writes it: new values in the columns, and the upstream version it is based on. */
  const edit = async (id: number, fields: EditableValues): Promise<void> => {
    const current = await row(id);
    // A field edited before (not pushed yet) keeps the base of that first edit.
    const pending: LocalEdit | null = current.local_dirty ? JSON.parse(current.local_dirty) : null;
    const base: EditableValues = { ...pending?.base };
    for (const field of Object.keys(fields) as Array<keyof EditableValues>)
      if (!pending || !(field in pending.fields))
        base[field] = (current as unknown as Record<string, string | null>)[COLUMNS[field]] ?? null;
    const localEdit: LocalEdit = {
      fields: { ...pending?.fields, ...fields },
      base,
      baseUpdatedAt: pending?.baseUpdatedAt ?? JSON.parse(current.metadata).updatedAt,
      editedAt: new Date().toISOString(),
    };
    const sets = Object.keys(fields).map((f) => `${COLUMNS[f as keyof EditableValues]} = ?`);
    await db.dataSource.query(`UPDATE robaws_customers SET ${sets.join(', ')}, local_dirty = ? WHERE robaws_id = ?`, [
      ...Object.values(fields),
      JSON.stringify(localEdit),
      id,
    ]);
  };

  const runJob = async (job: string, params: Record<string, unknown> = {}) => {
    const t = tick('crm', job, { params });
    await probe.produce(Topic.CrmRequested, t.key, t.value);
    const end = await probe.waitForRunEnd(t.value.runId!, 120000);
    return {
      runId: t.value.runId!,
      topic: end.topic,
      stats: end.json.payload.stats,
      error: end.json.payload.error,
      value: end.value,
    };
  };

  const push = async (params: Record<string, unknown> = {}) => {
    const end = await runJob('robaws.customers.push', params);
    assert.equal(end.topic, Topic.RunCompleted, `push ended ${end.topic}: ${end.value}`);
    return end.stats;
  };

  const patchesFor = (id: number) => sim.patches.filter((p) => p.clientId === id);

  before(async () => {
    db = await createTestDatabase('crm_push_e2e');
    sim = new RobawsSimulator({ clients: CLIENTS, seed: 11 });
    const url = await sim.start();
    const env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      // Its own group from now on: other suites' crm ticks on the shared broker are not run here.
      KAFKA_GROUP_ID: await freshGroup('crm-push', [Topic.CrmRequested, Topic.RobawsWebhookReceived]),
      DATABASE_URL: db.url,
      ROBAWS_URL: url,
      ROBAWS_API_KEY: sim.apiKey,
      ROBAWS_API_SECRET: sim.apiSecret,
      HTTP_RETRIES: '2',
      HTTP_RETRY_BASE_DELAY_MS: '20',
    };
    app = await startAppProcess('crm-sync', env, 'crm-push-e2e');
    await probe.watch([
      Topic.RunStarted,
      Topic.RunCompleted,
      Topic.RunFailed,
      Topic.RunSkipped,
      Topic.CrmRequested,
      deadLetterTopic(Topic.CrmRequested),
      Topic.RobawsCustomerChanged,
    ]);
    // resolve() is a service call (the API's POST /api/crm/customers/:id/resolve calls it): the same service over
    // the same database and simulator, in this process.
    const config = loadConfig('crm-sync', env);
    entities = new DataSource({ ...dataSourceOptions({ kind: 'mysql', url: db.url }), entities: [RobawsCustomer] });
    await entities.initialize();
    api = new RobawsApiClient(config.crm.robaws, config.http);
    service = new CustomerPushService(api, entities, config);

    pool = sim
      .clients()
      .filter(
        (c) =>
          c.extraFields.Role?.stringValue &&
          c.extraFields.Role.stringValue !== 'PARTNER' &&
          c.address.city !== 'Brugge' &&
          c.name.trim() === c.name,
      );
    const full = await runJob('robaws.customers.full');
    assert.equal(full.topic, Topic.RunCompleted, full.value);
    assert.equal(full.stats.created, CLIENTS);
  });

  after(async () => {
    await app?.stop();
    await probe.close();
    await api?.close();
    await entities?.destroy();
    await sim?.stop();
    await db?.drop();
  });

  let changed: RobawsClient;
  let moved: RobawsClient;
  let emailed: RobawsClient;
  let conflicting: RobawsClient;
  let remoteOther: RobawsClient;
  let blank: RobawsClient;

  it('a dry run plans the patches and sends and writes nothing', async () => {
    [changed, moved, emailed, conflicting, remoteOther, blank] = [take(), take(), take(), take(), take(), take()];
    await edit(changed.id, { name: `${changed.name} (renamed)`, role: 'PARTNER' });
    await edit(moved.id, { city: 'Brugge', postalCode: '8000', name: moved.name });
    await edit(emailed.id, { email: `local-${emailed.id}@push.example`, website: null });
    await edit(conflicting.id, { name: 'Local name' });
    await edit(remoteOther.id, { email: `other-${remoteOther.id}@push.example` });
    await edit(blank.id, { name: null });
    // Someone in Robaws changes the edited field of one, and a field nobody edited of another.
    sim.updateClient(conflicting.id, { name: 'Remote name' });
    sim.updateClient(remoteOther.id, { website: 'https://remote-change.example' });

    const before = await db.dataSource.query('SELECT robaws_id, local_dirty, conflict FROM robaws_customers');
    const stats = await push({ dryRun: true });
    assert.equal(stats.pushed, 0);
    assert.equal(stats.conflicts, 1, 'the conflict is detected');
    assert.equal(sim.counters.patches, 0, 'nothing sent');
    assert.deepEqual(
      await db.dataSource.query('SELECT robaws_id, local_dirty, conflict FROM robaws_customers'),
      before,
    );
  });

  it('pushes one merge-patch per customer with only the changed fields, in Robaws shape; rows are clean', async () => {
    const gets = sim.requestCount('GET /api/v2/clients/:id');
    const { runId, stats, ...end } = await runJob('robaws.customers.push');
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.equal(stats.pushed, 4, JSON.stringify(stats));
    assert.equal(stats.conflicts, 1);
    assert.equal(stats.failed, 1);
    assert.equal(sim.requestCount('GET /api/v2/clients/:id'), gets, 'current versions read in bulk, not one by one');

    const only = (id: number) => {
      const sent = patchesFor(id);
      assert.equal(sent.length, 1, `one patch for ${id}`);
      assert.equal(sent[0].contentType, MERGE_PATCH);
      return sent[0];
    };
    const role = changed.extraFields.Role;
    // The Role extra field keeps its members: those it has are sent again, but never a null (that would remove one).
    const sentRole = Object.fromEntries(Object.entries(role).filter(([, v]) => v !== null));
    assert.deepEqual(only(changed.id).body, {
      name: `${changed.name} (renamed)`,
      extraFields: { Role: { ...sentRole, stringValue: 'PARTNER' } },
    });
    // The unchanged name of the edit is not sent.
    assert.deepEqual(only(moved.id).body, { address: { city: 'Brugge', postalCode: '8000' } });
    const emailedBody: Record<string, unknown> = { email: `local-${emailed.id}@push.example` };
    if (emailed.website !== null) emailedBody.website = null;
    assert.deepEqual(only(emailed.id).body, emailedBody);
    assert.deepEqual(only(remoteOther.id).body, { email: `other-${remoteOther.id}@push.example` });

    // Robaws holds them, with the other members and fields untouched.
    const renamed = sim.client(changed.id)!;
    assert.equal(renamed.name, `${changed.name} (renamed)`);
    assert.deepEqual(renamed.extraFields, {
      ...changed.extraFields,
      Role: { ...role, stringValue: 'PARTNER' },
    });
    assert.deepEqual(sim.client(moved.id)!.address, { ...moved.address, city: 'Brugge', postalCode: '8000' });
    assert.equal(sim.client(emailed.id)!.email, `local-${emailed.id}@push.example`);
    // A remote change to a field nobody edited is merged, not a conflict.
    assert.equal(sim.client(remoteOther.id)!.website, 'https://remote-change.example');
    assert.equal(sim.client(remoteOther.id)!.email, `other-${remoteOther.id}@push.example`);

    for (const client of [changed, moved, emailed, remoteOther]) {
      const r = await row(client.id);
      assert.equal(r.local_dirty, null, `${client.id} is clean`);
      assert.equal(r.conflict, null);
      assert.ok(r.pushed_at instanceof Date, `${client.id} has pushed_at`);
      assert.deepEqual(JSON.parse(r.metadata), sim.client(client.id), `${client.id} stores Robaws's answer`);
    }
    assert.equal((await row(changed.id)).role, 'PARTNER');
    assert.equal((await row(remoteOther.id)).website, 'https://remote-change.example');

    // Each customer the push stored has its change event on the broker: a pushed edit named against Robaws's version
    // before it (the edit itself sent nothing); the conflict stored Robaws's newer version beside the kept edit; the
    // refused edit (blank) wrote nothing.
    const seen = await eventually(
      () => {
        const events = probe.forRun(Topic.RobawsCustomerChanged, runId);
        return events.length >= 5 ? events : undefined;
      },
      "the push's change events",
      30000,
    );
    const changes = new Map(
      seen.map((m) => [Number(m.key), parseEnvelope(m.json, RobawsCustomerChangedPayload).payload]),
    );
    assert.deepEqual(
      [...changes.keys()].sort((a, b) => a - b),
      [changed, moved, emailed, conflicting, remoteOther].map((c) => c.id).sort((a, b) => a - b),
    );
    assert.ok([...changes.values()].every((c) => c.changeType === 'updated' && c.runId === runId));
    assert.deepEqual(changes.get(changed.id)!.changedFields, ['name', 'role', 'upstream_updated_at']);
    assert.equal(changes.get(changed.id)!.record.role, 'PARTNER');
    assert.ok(changes.get(moved.id)!.changedFields.includes('city'));
    assert.deepEqual(changes.get(conflicting.id)!.changedFields, ['upstream_updated_at']);
    assert.equal(changes.get(conflicting.id)!.record.name, 'Local name', 'the record as stored, the edit kept');
  });

  it('a conflicting remote change is not overwritten: both versions are stored and the edit is kept', async () => {
    assert.equal(patchesFor(conflicting.id).length, 0, 'nothing sent');
    assert.equal(sim.client(conflicting.id)!.name, 'Remote name');
    const r = await row(conflicting.id);
    assert.equal(r.name, 'Local name', 'the row keeps the local value');
    assert.equal(JSON.parse(r.metadata).name, 'Remote name', "Robaws's version is stored beside it");
    const conflict = JSON.parse(r.conflict!);
    assert.deepEqual(conflict.local, { name: 'Local name' });
    assert.deepEqual(conflict.remote, { name: 'Remote name' });
    assert.equal(conflict.remoteUpdatedAt, sim.client(conflicting.id)!.updatedAt);
    assert.deepEqual(JSON.parse(r.local_dirty!).fields, { name: 'Local name' });

    // A later push leaves it alone until the operator decides.
    const stats = await push();
    assert.equal(stats.conflicts, 0);
    assert.equal(patchesFor(conflicting.id).length, 0);
  });

  it('a 400 from Robaws (a blank name) is counted failed, the edit kept, and the others still went', async () => {
    const sent = patchesFor(blank.id);
    assert.ok(sent.length >= 1);
    assert.ok(sent.every((p) => p.status === 400 && p.contentType === MERGE_PATCH));
    assert.deepEqual(sent[0].body, { name: null });
    assert.equal(sim.client(blank.id)!.name, blank.name);
    const r = await row(blank.id);
    assert.deepEqual(JSON.parse(r.local_dirty!).fields, { name: null });
    assert.equal(r.conflict, null);
    assert.equal(r.pushed_at, null);
    // The operator fixes it: the next push sends the new value.
    await edit(blank.id, { name: 'Not blank' });
    const stats = await push({ clientId: blank.id });
    assert.deepEqual([stats.pushed, stats.failed], [1, 0]);
    assert.equal(sim.client(blank.id)!.name, 'Not blank');
  });

  it('resolve answers 404 for an unknown customer, 409 without a conflict and 400 for another keep', async () => {
    await assert.rejects(service.resolve(999_999, 'local'), NotFoundException);
    await assert.rejects(service.resolve(changed.id, 'local'), ConflictException);
    await assert.rejects(service.resolve(conflicting.id, 'both' as 'local'), BadRequestException);
    assert.ok((await row(conflicting.id)).conflict, 'the conflict is still there');
  });

  it('resolve local rebases the edit on Robaws’s version; the next push sends it', async () => {
    const resolved = await service.resolve(conflicting.id, 'local');
    assert.equal(resolved.conflict, null);
    assert.deepEqual(resolved.localDirty?.fields, { name: 'Local name' });
    assert.deepEqual(resolved.localDirty?.base, { name: 'Remote name' });
    assert.equal(resolved.localDirty?.baseUpdatedAt, sim.client(conflicting.id)!.updatedAt);

    const stats = await push({ clientId: conflicting.id });
    assert.deepEqual([stats.pushed, stats.conflicts], [1, 0]);
    assert.deepEqual(
      patchesFor(conflicting.id).map((p) => p.body),
      [{ name: 'Local name' }],
    );
    assert.equal(sim.client(conflicting.id)!.name, 'Local name');
    const r = await row(conflicting.id);
    assert.deepEqual([r.local_dirty, r.conflict, r.name], [null, null, 'Local name']);
  });

  it('resolve remote takes Robaws’s version and drops the edit; nothing is pushed', async () => {
    const client = take();
    await edit(client.id, { city: 'Local city' });
    sim.updateClient(client.id, { address: { city: 'Remote city' } });
    const stats = await push();
    assert.equal(stats.conflicts, 1);

    const resolved = await service.resolve(client.id, 'remote');
    assert.deepEqual([resolved.localDirty, resolved.conflict, resolved.city], [null, null, 'Remote city']);
    const r = await row(client.id);
    assert.deepEqual([r.local_dirty, r.conflict, r.city], [null, null, 'Remote city']);
    await push();
    assert.equal(patchesFor(client.id).length, 0);
    assert.equal(sim.client(client.id)!.address.city, 'Remote city');
  });

  it('a 429 storm is ridden out: every edit arrives', async () => {
    const clients = [take(), take(), take(), take(), take(), take()];
    for (const client of clients) await edit(client.id, { email: `storm-${client.id}@push.example` });
    const limited = sim.counters.rateLimited;
    sim.setFaults({ rateLimitRate: 0.5 });
    try {
      const stats = await push();
      assert.equal(stats.pushed, clients.length);
    } finally {
      sim.clearFaults();
    }
    assert.ok(sim.counters.rateLimited > limited, 'the storm happened');
    for (const client of clients) {
      assert.equal(sim.client(client.id)!.email, `storm-${client.id}@push.example`);
      assert.equal((await row(client.id)).local_dirty, null);
    }
  });

  it('Robaws failing (5xx after the retries) fails the run and keeps the edit', async () => {
    const client = take();
    await edit(client.id, { name: 'During an outage' });
    sim.setFaults({ errorRate: 1 });
    let end;
    try {
      end = await runJob('robaws.customers.push');
    } finally {
      sim.clearFaults();
    }
    assert.equal(end.topic, Topic.RunFailed, end.value);
    assert.equal(end.error.origin, 'source');
    assert.doesNotMatch(end.value, new RegExp(sim.apiSecret));
    assert.ok((await row(client.id)).local_dirty, 'the edit is kept');
    assert.notEqual(sim.client(client.id)!.name, 'During an outage');

    const stats = await push();
    assert.equal(stats.pushed, 1);
    assert.equal(sim.client(client.id)!.name, 'During an outage');
  });
});
