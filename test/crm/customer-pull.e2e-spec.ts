import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  parseEnvelope,
  ROBAWS_CUSTOMER_RECORD_FIELDS,
  RobawsCustomerChangedPayload,
  RobawsCustomerRecord,
  Topic,
} from '@sync-hub/contracts';
import { RobawsClient, RobawsSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe, SeenMessage } from '../support/kafka';
import { tick } from '../support/ticks';
import { eventually } from '../support/wait';

const CLIENTS = 640;
const PAGE_SIZE = 50;
const INCREMENTAL = 'robaws.customers.incremental';
const FULL = 'robaws.customers.full';

interface Row {
  robaws_id: number;
  name: string | null;
  role: string | null;
  email: string | null;
  tel: string | null;
  gsm: string | null;
  phone: string | null;
  website: string | null;
  address_line1: string | null;
  address_line2: string | null;
  postal_code: string | null;
  city: string | null;
  country: string | null;
  vat_number: string | null;
  vat_valid: number | null;
  currency: string | null;
  language: string | null;
  is_active: number;
  metadata: string;
  upstream_updated_at: Date | null;
  synced_at: Date;
  local_dirty: string | null;
  deleted_upstream: number;
}

/** A stored row as its change events carry it (the record of crm.robaws.customer.changed.v1). */
function recordOf(row: Row): RobawsCustomerRecord {
  return {
    robaws_id: row.robaws_id,
    name: row.name,
    role: row.role,
    email: row.email,
    tel: row.tel,
    gsm: row.gsm,
    phone: row.phone,
    website: row.website,
    address_line1: row.address_line1,
    address_line2: row.address_line2,
    postal_code: row.postal_code,
    city: row.city,
    country: row.country,
    vat_number: row.vat_number,
    vat_valid: row.vat_valid === null ? null : row.vat_valid === 1,
    currency: row.currency,
    language: row.language,
    is_active: row.is_active === 1,
    deleted_upstream: row.deleted_upstream === 1,
    upstream_updated_at: row.upstream_updated_at ? new Date(row.upstream_updated_at).toISOString() : null,
  };
}

/** The digits of a phone as typed, without a leading trunk 0 or international prefix: what an E.164 form must end with. */
function significantDigits(raw: string): string {
  // "+49 (0)171 …": the trunk 0 written beside the country code is not dialled.
  return raw.replace(/\(0\)/g, '').replace(/\D/g, '').replace(/^00/, '').replace(/^0+/, '');
}

function rawRole(client: RobawsClient): string | null {
  const key = Object.keys(client.extraFields ?? {}).find((k) => k.toLowerCase() === 'role');
  const value = key ? (client.extraFields as Record<string, { stringValue?: string | null }>)[key] : undefined;
  return value?.stringValue?.trim() || null;
}

describe('crm-sync: Robaws customers pulled (real Kafka, MariaDB, the Robaws simulator over HTTP)', () => {
  let db: TestDatabase;
  let robaws: RobawsSimulator;
  let app: AppProcess;
  let env: Record<string, string>;
  const probe = new KafkaProbe();

  const rows = (where = '1 = 1'): Promise<Row[]> =>
    db.dataSource.query(`SELECT * FROM robaws_customers WHERE ${where} ORDER BY robaws_id`);
  const cursor = async (): Promise<string | null> =>
    (await db.dataSource.query("SELECT position FROM sync_cursors WHERE stream = 'robaws.clients'"))[0]?.position ??
    null;
  const run = async (job: string, params?: Record<string, unknown>) => {
    const t = tick('crm', job, params ? { params } : {});
    await probe.produce(Topic.CrmRequested, t.key, t.value);
    const end = await probe.waitForRunEnd(t.value.runId!);
    return { runId: t.value.runId!, end, stats: end.json.payload.stats };
  };
  const start = () => startAppProcess('crm-sync', env, 'crm-sync-pull-e2e');
  /**
   * The change events of a run, read back from the broker and checked against the contract. A run sends its events
   * before it reports its end, but the probe may read the two topics in either order: it waits for `count`, then a
   * little longer, so that one too many would be seen.
   */
  const changesOf = async (runId: string, count: number) => {
    const of = () => probe.forRun(Topic.RobawsCustomerChanged, runId);
    if (count > 0) await eventually(() => (of().length >= count ? true : undefined), `${count} change event(s)`, 30000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    return of().map((m: SeenMessage) => {
      assert.equal(m.key, m.json.payload.id, 'keyed by the Robaws id');
      return parseEnvelope(m.json, RobawsCustomerChangedPayload).payload;
    });
  };

  before(async () => {
    db = await createTestDatabase('crm_pull');
    robaws = new RobawsSimulator({ seed: 11, clients: CLIENTS });
    env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      // Its own group from now on: other suites' crm ticks on the shared broker are not run here.
      KAFKA_GROUP_ID: await freshGroup('crm-pull', [Topic.CrmRequested, Topic.RobawsWebhookReceived]),
      DATABASE_URL: db.url,
      ROBAWS_URL: await robaws.start(),
      ROBAWS_API_KEY: robaws.apiKey,
      ROBAWS_API_SECRET: robaws.apiSecret,
      ROBAWS_PAGE_SIZE: String(PAGE_SIZE),
      ROBAWS_DEFAULT_COUNTRY: 'BE',
      HTTP_RETRIES: '2',
      HTTP_RETRY_BASE_DELAY_MS: '20',
    };
    app = await start();
    await probe.watch([
      Topic.RunStarted,
      Topic.RunCompleted,
      Topic.RunFailed,
      Topic.RunSkipped,
      Topic.RobawsCustomerChanged,
    ]);
  });

  after(async () => {
    await app?.stop();
    await probe.close();
    await robaws?.stop();
    await db?.drop();
  });

  it('a full pull stores every client as the simulator has it: roles, E.164 phones, normalised VAT, the whole record', async () => {
    const { end, stats, runId } = await run(FULL);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.deepEqual(
      [stats.fetched, stats.created, stats.updated, stats.unchanged, stats.failed, stats.deletedUpstream],
      [CLIENTS, CLIENTS, 0, 0, 0, 0],
    );
    assert.equal(robaws.counters.rateLimited, 0, 'paced under the real 15/s bucket: never refused');

    const stored = await rows();
    assert.equal(stored.length, CLIENTS);
    let withoutRole = 0;
    let e164 = 0;
    let keptAsGiven = 0;
    for (const row of stored) {
      const source = robaws.client(row.robaws_id)!;
      assert.deepEqual(JSON.parse(row.metadata), source, `metadata of ${row.robaws_id} is the whole record`);
      assert.equal(row.role, rawRole(source), `role of ${row.robaws_id}`);
      if (row.role === null) withoutRole++;
      assert.equal(row.name, source.name);
      assert.equal(row.email, source.email ? source.email.trim().toLowerCase() : null);
      for (const field of ['tel', 'gsm'] as const) {
        const given = source[field];
        const value = row[field];
        if (!given?.trim()) {
          assert.equal(value, null);
          continue;
        }
        if (value!.startsWith('+')) {
          e164++;
          assert.match(value!, /^\+[1-9]\d{6,14}$/);
          assert.ok(value!.endsWith(significantDigits(given)), `${field} ${given} → ${value}`);
        } else {
          keptAsGiven++;
          assert.equal(value, given.trim(), 'a number that does not parse is kept as given');
        }
      }
      if (source.vatNumber?.trim()) {
        assert.match(row.vat_number!, /^[A-Z]{2}[0-9A-Z]+$/, `VAT ${source.vatNumber} → ${row.vat_number}`);
        assert.ok(
          row.vat_number!.endsWith(
            source.vatNumber
              .replace(/[\s.-]/g, '')
              .toUpperCase()
              .replace(/^[A-Z]{2}/, ''),
          ),
        );
        assert.notEqual(row.vat_valid, null);
      } else assert.equal(row.vat_number, null);
      assert.equal(new Date(row.upstream_updated_at!).toISOString(), source.updatedAt);
    }
    assert.ok(withoutRole > 0 && withoutRole < CLIENTS, 'some clients have no role (null)');
    assert.ok(e164 > CLIENTS / 2 && keptAsGiven > 0, `${e164} E.164 numbers, ${keptAsGiven} kept as given`);
    assert.equal(
      stats.invalidPhones,
      stored.filter((r) => [r.tel, r.gsm].some((p) => p !== null && !p.startsWith('+'))).length,
    );
    assert.equal(stats.invalidVat, stored.filter((r) => r.vat_valid === 0).length);
    assert.ok(stats.invalidVat > 0, 'the simulator has VAT numbers with typos');
    const newest = robaws
      .clients()
      .map((c) => c.updatedAt)
      .sort()
      .at(-1);
    assert.equal(await cursor(), newest, 'a full pull leaves the cursor at the newest change');

    // One created event per client on the broker, each carrying the stored row as the CRM API shows it.
    const changes = await changesOf(runId, CLIENTS);
    assert.equal(changes.length, CLIENTS);
    assert.equal(new Set(changes.map((c) => c.id)).size, CLIENTS, 'one per customer');
    const byId = new Map(stored.map((r) => [String(r.robaws_id), r]));
    for (const c of changes) {
      assert.equal(c.changeType, 'created');
      assert.equal(c.runId, runId);
      assert.deepEqual(c.changedFields, [...ROBAWS_CUSTOMER_RECORD_FIELDS]);
      assert.deepEqual({ ...c.record }, recordOf(byId.get(c.id)!), `the record of ${c.id}`);
    }
  });

  it('an incremental pull after 20 changes writes those 20 only and moves the cursor to the newest', async () => {
    const before = new Map((await rows()).map((r) => [r.robaws_id, r]));
    const changed = robaws.changeClients(20);
    const { end, stats, runId } = await run(INCREMENTAL);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.equal(stats.updated, 20);
    assert.equal(stats.created, 0);
    assert.ok(stats.fetched >= 20 && stats.fetched < CLIENTS / 4, `read what changed (${stats.fetched}), not all`);
    assert.equal(stats.unchanged, stats.fetched - 20, 'the overlap re-reads are counted, not rewritten');
    for (const row of await rows()) {
      const was = before.get(row.robaws_id)!;
      if (changed.includes(row.robaws_id)) {
        assert.equal(row.email, robaws.client(row.robaws_id)!.email);
        assert.ok(new Date(row.synced_at) > new Date(was.synced_at));
      } else assert.deepEqual(row, was, `${row.robaws_id} untouched`);
    }
    const newest = changed.map((id) => robaws.client(id)!.updatedAt).sort()[19];
    assert.equal(await cursor(), newest);
    const changes = await changesOf(runId, 20);
    assert.deepEqual(
      changes.map((c) => Number(c.id)).sort((a, b) => a - b),
      [...changed].sort((a, b) => a - b),
      'an updated event per changed client; the overlap re-reads send nothing',
    );
    for (const c of changes) {
      assert.equal(c.changeType, 'updated');
      assert.deepEqual(c.changedFields, ['email', 'upstream_updated_at']);
      assert.equal(c.record.email, robaws.client(Number(c.id))!.email);
    }
    const again = await run(INCREMENTAL);
    assert.deepEqual([again.stats.updated, again.stats.created], [0, 0], 'nothing new: nothing written');
    assert.deepEqual(await changesOf(again.runId, 0), [], 'nor sent');
  });

  it('a pending local edit keeps its fields; the pull records the newer Robaws version beside them', async () => {
    const [row] = await rows('robaws_id = 1101');
    const edit = {
      fields: { name: 'Locally Renamed' },
      base: { name: row.name },
      baseUpdatedAt: new Date(row.upstream_updated_at!).toISOString(),
      editedAt: new Date().toISOString(),
    };
    await db.dataSource.query(
      "UPDATE robaws_customers SET name = 'Locally Renamed', local_dirty = ? WHERE robaws_id = 1101",
      [JSON.stringify(edit)],
    );
    const remote = robaws.updateClient(1101, { name: 'Renamed In Robaws', address: { city: 'Gent' } });
    const { stats, runId } = await run(INCREMENTAL);
    assert.equal(stats.updated, 1);
    const [change] = await changesOf(runId, 1);
    assert.equal(change.record.name, 'Locally Renamed', 'the record as stored (and shown by the API)');
    assert.ok(!change.changedFields.includes('name'), 'the name the row already held is no change');
    assert.ok(change.changedFields.includes('upstream_updated_at'));
    const [after] = await rows('robaws_id = 1101');
    assert.equal(after.name, 'Locally Renamed', 'the local edit is kept');
    assert.equal(after.city, 'Gent', 'fields not edited follow Robaws');
    assert.deepEqual(JSON.parse(after.local_dirty!), edit, 'the edit and its base are untouched');
    assert.equal(JSON.parse(after.metadata).name, 'Renamed In Robaws', 'the newer upstream record is stored beside it');
    assert.equal(new Date(after.upstream_updated_at!).toISOString(), remote.updatedAt);
  });

  it('clientId pulls one client; a limited full reads that many and marks nothing', async () => {
    robaws.updateClient(1200, { website: 'https://one.example' });
    const one = await run(INCREMENTAL, { clientId: 1200 });
    assert.deepEqual([one.stats.fetched, one.stats.updated], [1, 1]);
    const [change] = await changesOf(one.runId, 1);
    assert.deepEqual(
      [change.changeType, change.id, change.changedFields],
      ['updated', '1200', ['website', 'upstream_updated_at']],
    );
    assert.equal((await rows('robaws_id = 1200'))[0].email, robaws.client(1200)!.email);
    const cursorBefore = await cursor();
    robaws.removeClient(1300);
    const limited = await run(FULL, { limit: 120 });
    assert.equal(limited.end.topic, Topic.RunCompleted, limited.end.value);
    assert.deepEqual([limited.stats.fetched, limited.stats.deletedUpstream], [120, 0]);
    assert.equal(await cursor(), cursorBefore, 'a limited run moves no cursor');
    assert.equal((await rows('deleted_upstream = 1')).length, 0);
  });

  it('a complete full pull marks clients gone from Robaws deleted_upstream, never deletes; a 429 storm is ridden out', async () => {
    robaws.removeClient(1301);
    robaws.setFaults({ rateLimitRate: 0.3, retryAfterSeconds: 0 });
    try {
      const { end, stats, runId } = await run(FULL);
      assert.equal(end.topic, Topic.RunCompleted, end.value);
      assert.equal(stats.deletedUpstream, 2, '1300 (removed before) and 1301');
      assert.equal(stats.fetched, CLIENTS - 2);
      const changes = await changesOf(runId, 2);
      assert.deepEqual(
        changes
          .map((c) => [c.changeType, c.id, c.changedFields, c.record.deleted_upstream])
          .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
        [
          ['deactivated', '1300', ['deleted_upstream'], true],
          ['deactivated', '1301', ['deleted_upstream'], true],
        ],
      );
    } finally {
      robaws.clearFaults();
    }
    assert.ok(robaws.counters.rateLimited > 0, 'the storm answered 429s');
    assert.equal((await rows()).length, CLIENTS, 'nothing deleted');
    assert.deepEqual(
      (await rows('deleted_upstream = 1')).map((r) => r.robaws_id),
      [1300, 1301],
    );
    const gone = await run(INCREMENTAL, { clientId: 1301 });
    assert.equal(gone.stats.deletedUpstream, 0, 'already marked');
    assert.deepEqual(await changesOf(gone.runId, 0), [], 'and not deactivated again');
    robaws.createClient({ name: 'Back Again' });
    const again = await run(FULL);
    assert.deepEqual([again.stats.created, again.stats.deletedUpstream], [1, 0]);
  });

  it('bad credentials fail the run as a config error naming the variables, without the secret', async () => {
    await app.stop();
    app = await startAppProcess(
      'crm-sync',
      { ...env, ROBAWS_API_SECRET: 'wrong-secret-value-123' },
      'crm-sync-pull-e2e-badauth',
    );
    try {
      const { end } = await run(INCREMENTAL);
      assert.equal(end.topic, Topic.RunFailed);
      const error = end.json.payload.error;
      assert.match(error.message, /ROBAWS_API_KEY \/ ROBAWS_API_SECRET/);
      assert.doesNotMatch(end.value, /wrong-secret-value-123|sim-robaws-secret/);
    } finally {
      await app.stop();
      app = await start();
    }
  });
  it('a crash between pages leaves the cursor where it was; the next run reads those changes again and skips none', async () => {
    const cursorBefore = await cursor();
    const changed = robaws.changeClients(200); // four pages of 50
    robaws.setFaults({ latencyMs: 400 });
    const t = tick('crm', INCREMENTAL);
    await probe.produce(Topic.CrmRequested, t.key, t.value);
    const changedSql = `robaws_id IN (${changed.join(',')})`;
    // Killed once some pages are stored and others are not.
    await eventually(
      async () => {
        const written = (await rows(changedSql)).filter((r) => r.email === robaws.client(r.robaws_id)!.email).length;
        return written >= PAGE_SIZE && written < changed.length ? written : undefined;
      },
      'a page of the run to be stored',
      60000,
      20,
    );
    app.child.kill('SIGKILL');
    await app.stop().catch(() => undefined);
    robaws.clearFaults();
    const partly = (await rows(changedSql)).filter((r) => r.email === robaws.client(r.robaws_id)!.email).length;
    assert.ok(partly < changed.length, `killed mid-run (${partly} of ${changed.length} stored)`);
    assert.equal(await cursor(), cursorBefore, 'the cursor did not move past rows never stored');

    // The killed run's lease lapses (issue 14 will record the kill); then a new process runs the next tick.
    await db.dataSource.query("UPDATE job_leases SET expires_at = '2000-01-01 00:00:00' WHERE name LIKE '%robaws%'");
    app = await start();
    const { end, stats } = await run(INCREMENTAL);
    assert.equal(end.topic, Topic.RunCompleted, end.value);
    assert.equal(stats.updated, changed.length - partly, 'the rest of the changes');
    for (const row of await rows(changedSql)) assert.equal(row.email, robaws.client(row.robaws_id)!.email);
    assert.equal(await cursor(), changed.map((id) => robaws.client(id)!.updatedAt).sort()[changed.length - 1]);
  });
});
