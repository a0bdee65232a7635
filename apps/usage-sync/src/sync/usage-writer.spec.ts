import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { Topic } from '@sync-hub/contracts';
import { BusMessage, InProcessBus, InProcessEventPublisher, ReliablePublisher } from '@sync-hub/messaging';
import { OutboxMessage } from '@sync-hub/persistence';
import { DataSource, QueryRunner } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { Panel, Reseller, ResellerConfig, USAGE_ENTITIES } from '../model/usage.entities';
import { UsageWriter, WRITE_BATCH } from './usage-writer';

const GIB = 1024 ** 3;

/**
 * The writer on SQLite (the embedded mode's engine; the e2e suites run it on MariaDB) with the in-process bus behind
 * the outbox.
 */
describe('UsageWriter: multi-row updates and usage events through the outbox', () => {
  let db: DataSource;
  let writer: UsageWriter;
  const bus = new InProcessBus();
  const events: BusMessage[] = [];
  const statements: string[] = [];
  let panelId = 0;
  let resellerId = 0;

  const payloads = async (topic: Topic) => (
    await bus.drain(),
    events.filter((m) => m.topic === topic).map((m) => (m.value as any).payload)
  );
  const addConfigs = async (n: number, fields: Partial<ResellerConfig> = {}): Promise<number[]> => {
    const now = new Date();
    const rows = Array.from({ length: n }, (_, i) => ({
      resellerId,
      panelId,
      externalUsername: `user${i}`,
      usageBytes: 1000,
      trafficLimitBytes: null,
      createdAt: now,
      updatedAt: now,
      ...fields,
    }));
    const repo = db.getRepository(ResellerConfig);
    const [{ last }] = await repo.query('SELECT COALESCE(MAX(id), 0) AS last FROM reseller_configs');
    for (let i = 0; i < rows.length; i += 200) await repo.insert(rows.slice(i, i + 200));
    // SQLite answers a multi-row insert's ids as the last one's: read them back.
    return (await repo.query('SELECT id FROM reseller_configs WHERE id > ? ORDER BY id', [last])).map(
      (r: { id: number }) => r.id,
    );
  };
  const config = (id: number) => db.getRepository(ResellerConfig).findOneByOrFail({ id });

  before(async () => {
    db = await inMemoryDatabase(USAGE_ENTITIES);
    // Counts the statements the writer sends (SQLite hands out one query runner again and again: patched once).
    const create = db.createQueryRunner.bind(db);
    const patched = new WeakSet<QueryRunner>();
    db.createQueryRunner = (...args: Parameters<DataSource['createQueryRunner']>): QueryRunner => {
      const runner = create(...args);
      if (patched.has(runner)) return runner;
      patched.add(runner);
      const query = runner.query.bind(runner);
      runner.query = ((sql: string, ...rest: unknown[]) => {
        if (/^\s*UPDATE/i.test(sql)) statements.push(sql);
        return (query as (...a: unknown[]) => Promise<unknown>)(sql, ...rest);
      }) as QueryRunner['query'];
      return runner;
    };
    for (const topic of [Topic.UsageConfigUpdated, Topic.UsageLimitCrossed])
      bus.subscribe(topic, async (m) => void events.push(m));
    writer = new UsageWriter(
      db,
      new ReliablePublisher(new InProcessEventPublisher(bus), db.getRepository(OutboxMessage)),
    );
    const now = new Date();
    resellerId = (await db.getRepository(Reseller).insert({ name: 'R', createdAt: now, updatedAt: now })).identifiers[0]
      .id;
    panelId = (
      await db.getRepository(Panel).insert({
        name: 'p',
        type: 'marzban',
        url: 'http://x',
        credentialsSealed: null,
        settings: null,
        createdAt: now,
        updatedAt: now,
      })
    ).identifiers[0].id;
  });
  after(() => db.destroy());
  beforeEach(() => {
    statements.length = 0;
    events.length = 0;
  });

  it('writes a batch of results in one UPDATE for the usages and one for the failures, whatever its size', async () => {
    const ids = await addConfigs(WRITE_BATCH * 2 + 100);
    const readings = ids.map((configId, i) => ({
      configId,
      reading:
        i % 10 === 0
          ? ({ status: 'hard_failure', error: `HTTP 502 for ${configId}`, scope: 'panel' } as const)
          : ({ status: 'ok', bytes: i % 3 === 0 ? 1000 : 5000 + i, sourceField: 'used_traffic' } as const),
    }));
    const written = await writer.write(readings);
    assert.equal(written.length, ids.length);
    assert.equal(statements.length, 6, `three batches of ${WRITE_BATCH}, two statements each: ${statements.length}`);
    const counts = { updated: 0, unchanged: 0, hard_failure: 0 };
    for (const w of written) counts[w.status]++;
    assert.deepEqual(counts, {
      hard_failure: 110,
      unchanged: readings.filter((r, i) => i % 10 !== 0 && i % 3 === 0).length,
      updated: readings.filter((r, i) => i % 10 !== 0 && i % 3 !== 0).length,
    });
    const ok = await config(ids[1]);
    assert.deepEqual([ok.usageBytes, ok.lastUsageError, ok.lastUsageErrorAt], [5001, null, null]);
    assert.ok(ok.usageSyncedAt);
    const failed = await config(ids[10]);
    assert.deepEqual([failed.usageBytes, failed.lastUsageError], [1000, `HTTP 502 for ${ids[10]}`], 'usage kept');
    assert.ok(failed.lastUsageErrorAt);
    assert.equal(failed.usageSyncedAt, null);
    const updates = await payloads(Topic.UsageConfigUpdated);
    assert.equal(updates.length, counts.updated, 'one event per changed config, none for the unchanged');
    assert.deepEqual(updates[0], {
      configId: ids[1],
      resellerId,
      previous: 1000,
      current: 5001,
      delta: 4001,
      limit: null,
      percent: null,
    });
    assert.equal(await db.getRepository(OutboxMessage).count(), 0, 'sent and removed from the outbox');
  });

  it('a later success clears the recorded failure; a failure keeps the usage and records its time', async () => {
    const [id] = await addConfigs(1, { usageBytes: 7 });
    const at = new Date('2026-03-01T10:00:00.000Z');
    await writer.write(
      [{ configId: id, reading: { status: 'hard_failure', error: 'unknown user', scope: 'config' } }],
      {
        now: at,
      },
    );
    const failed = await config(id);
    assert.deepEqual(
      [failed.usageBytes, failed.lastUsageError, failed.lastUsageErrorAt?.toISOString()],
      [7, 'unknown user', at.toISOString()],
    );
    await writer.write([{ configId: id, reading: { status: 'ok', bytes: 9, sourceField: 'used_traffic' } }]);
    const ok = await config(id);
    assert.deepEqual([ok.usageBytes, ok.lastUsageError, ok.lastUsageErrorAt], [9, null, null]);
  });

  it('drops a reading asked for before the last write (a diagnostic during a run): usage never moves back', async () => {
    const [id] = await addConfigs(1, { usageBytes: 0, trafficLimitBytes: 10 * GIB });
    const jobAsked = new Date('2026-03-01T10:00:00.000Z');
    // The diagnostic asks later and writes first: 9 GiB, the 80 % crossing announced.
    await writer.write([{ configId: id, reading: { status: 'ok', bytes: 9 * GIB, sourceField: 'used_traffic' } }], {
      now: new Date('2026-03-01T10:00:02.000Z'),
    });
    events.length = 0;
    // The job's reading, asked before that write, lands after it: older, dropped.
    const [late] = await writer.write(
      [{ configId: id, reading: { status: 'ok', bytes: 7 * GIB, sourceField: 'used_traffic' }, readAt: jobAsked }],
      { now: new Date('2026-03-01T10:00:03.000Z') },
    );
    assert.deepEqual(late, {
      configId: id,
      status: 'unchanged',
      previous: 9 * GIB,
      current: 9 * GIB,
      superseded: true,
    });
    const [failedLate] = await writer.write(
      [{ configId: id, reading: { status: 'hard_failure', error: 'HTTP 502', scope: 'panel' }, readAt: jobAsked }],
      { now: new Date('2026-03-01T10:00:04.000Z') },
    );
    assert.equal(failedLate.superseded, true, 'an older failure does not mark a config that synced since');
    const stored = await config(id);
    assert.deepEqual([stored.usageBytes, stored.lastUsageError, stored.limitAlertPercent], [9 * GIB, null, 80]);
    assert.equal(events.length, 0, 'no event for a dropped reading (no backwards delta, no second crossing)');
    // A reading asked after the write is stored.
    await writer.write(
      [
        {
          configId: id,
          reading: { status: 'ok', bytes: 10 * GIB, sourceField: 'used_traffic' },
          readAt: new Date('2026-03-01T10:00:05.000Z'),
        },
      ],
      { now: new Date('2026-03-01T10:00:06.000Z') },
    );
    assert.equal((await config(id)).usageBytes, 10 * GIB);
  });

  it('announces 80 % and 100 % of the limit once each, again only after the usage dropped below', async () => {
    const [id] = await addConfigs(1, { usageBytes: 0, trafficLimitBytes: 10 * GIB });
    const sync = async (bytes: number) => {
      events.length = 0;
      await writer.write([{ configId: id, reading: { status: 'ok', bytes, sourceField: 'used_traffic' } }], {
        runId: '6f0c5a52-0d8e-4a5e-9f43-1a2b3c4d5e6f',
      });
      return (await payloads(Topic.UsageLimitCrossed)).map((p) => p.threshold);
    };
    assert.deepEqual(await sync(5 * GIB), []);
    assert.deepEqual(await sync(8 * GIB), [80]);
    assert.deepEqual(await sync(9 * GIB), [], 'still above 80 %');
    assert.deepEqual(await sync(10 * GIB), [100]);
    assert.deepEqual(await sync(11 * GIB), []);
    assert.equal((await config(id)).limitAlertPercent, 100);
    assert.deepEqual(await sync(0), [], 'a panel reset announces nothing');
    assert.equal((await config(id)).limitAlertPercent, 0);
    assert.deepEqual(await sync(12 * GIB), [80, 100], 'a jump crosses both, in order');
    const [crossed] = await payloads(Topic.UsageLimitCrossed);
    assert.deepEqual(crossed, { configId: id, resellerId, threshold: 80, usage: 12 * GIB, limit: 10 * GIB });
    const [updated] = await payloads(Topic.UsageConfigUpdated);
    assert.deepEqual([updated.previous, updated.current, updated.delta, updated.percent], [0, 12 * GIB, 12 * GIB, 120]);
    assert.equal(events[0].key, String(id), 'keyed by config id');
    assert.equal((events[0].value as any).runId, '6f0c5a52-0d8e-4a5e-9f43-1a2b3c4d5e6f');
  });

  it('CHANGE_EVENTS without usage stops usage.config.updated.v1; the limit alerts still go out', async () => {
    const quiet = new UsageWriter(
      db,
      new ReliablePublisher(new InProcessEventPublisher(bus), db.getRepository(OutboxMessage)),
      loadConfig('usage-sync', { CHANGE_EVENTS: 'splynx,crm' }),
    );
    const [id] = await addConfigs(1, { usageBytes: 0, trafficLimitBytes: 10 * GIB });
    await quiet.write([{ configId: id, reading: { status: 'ok', bytes: 9 * GIB, sourceField: 'used_traffic' } }]);
    assert.deepEqual(await payloads(Topic.UsageConfigUpdated), [], 'no change event');
    assert.deepEqual(
      (await payloads(Topic.UsageLimitCrossed)).map((p) => p.threshold),
      [80],
    );
    assert.equal((await config(id)).usageBytes, 9 * GIB, 'the usage is stored all the same');
    events.length = 0;
    const loud = new UsageWriter(
      db,
      new ReliablePublisher(new InProcessEventPublisher(bus), db.getRepository(OutboxMessage)),
      loadConfig('usage-sync', { CHANGE_EVENTS: 'usage' }),
    );
    await loud.write([{ configId: id, reading: { status: 'ok', bytes: 9.5 * GIB, sourceField: 'used_traffic' } }]);
    assert.equal((await payloads(Topic.UsageConfigUpdated)).length, 1, 'on when the list names usage');
  });

  it("records a panel's last success and last error; a config deleted meanwhile is left out", async () => {
    const [id] = await addConfigs(1);
    await db.getRepository(ResellerConfig).delete({ id });
    assert.deepEqual(
      await writer.write([{ configId: id, reading: { status: 'ok', bytes: 1, sourceField: 'used_traffic' } }]),
      [],
    );
    const at = new Date('2026-03-02T08:00:00.000Z');
    await writer.recordPanelHealth([{ panelId, succeededAt: at, error: 'marzban panel p: HTTP 502' }], at);
    const panel = await db.getRepository(Panel).findOneByOrFail({ id: panelId });
    assert.deepEqual(
      [panel.lastSuccessAt?.toISOString(), panel.lastError, panel.lastErrorAt?.toISOString()],
      [at.toISOString(), 'marzban panel p: HTTP 502', at.toISOString()],
    );
  });
});
