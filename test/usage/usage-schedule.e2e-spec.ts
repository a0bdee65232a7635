import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { SecretBox } from '@sync-hub/persistence';
import { jobLeaseName } from '@sync-hub/runs';
import { EylandooSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup, KafkaProbe, SeenMessage } from '../support/kafka';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-usage-schedule-key-0123456789';
const MINUTE = 60_000;
/** Each read of the slow panel takes this long: three of them keep the first run going past the next tick. */
const LATENCY_MS = 3000;

/**
 * A start for the scheduler's manual clock: the next real minute whose number is 1 modulo 3, at :30. Its ticks then
 * carry deadlines in the real future (the usage app checks them against the real clock), and the first usage slot
 * under an interval of 3 is two simulated minutes away.
 */
function clockStart(): Date {
  let t = Math.ceil(Date.now() / MINUTE) * MINUTE;
  while (new Date(t).getUTCMinutes() % 3 !== 1) t += MINUTE;
  return new Date(t + 30_000);
}

describe('usage/reseller.usage on its schedule: the interval setting, and overlap (scheduler, usage-sync; Kafka, MariaDB)', () => {
  let db: TestDatabase;
  let scheduler: AppProcess;
  let usage: AppProcess;
  const probe = new KafkaProbe();
  const panel = new EylandooSimulator({ seed: 41, growBytesPerRead: 1000, latencyMs: LATENCY_MS });
  const start = clockStart();
  const suiteStart = new Date().toISOString();

  const move = async (body: object): Promise<{ now: string; leader: boolean }> => {
    const res = await fetch(`${scheduler.url}/__clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { now: string; leader: boolean };
  };
  /** This suite's usage ticks, in slot order. */
  const usageTicks = (): SeenMessage[] =>
    probe
      .messages(
        Topic.UsageRequested,
        (m) =>
          m.json?.occurredAt >= suiteStart &&
          m.json.payload.job === 'reseller.usage' &&
          m.json.payload.trigger === 'schedule',
      )
      .sort((a, b) => a.json.payload.scheduledFor.localeCompare(b.json.payload.scheduledFor));
  const endOf = (runId: string, timeoutMs = 60000): Promise<SeenMessage> =>
    probe.waitForRunEnd(runId, timeoutMs, suiteStart);

  before(async () => {
    db = await createTestDatabase('usage_schedule');
    await panel.start();
    const key = randomBytes(32);
    const { insertId: resellerId } = (await db.dataSource.query(
      "INSERT INTO resellers (name, created_at, updated_at) VALUES ('Reseller', NOW(3), NOW(3))",
    )) as unknown as { insertId: number };
    const { insertId: panelId } = (await db.dataSource.query(
      `INSERT INTO panels (name, type, url, max_concurrency, active, created_at, updated_at)
       VALUES ('slow', 'eylandoo', ?, 1, 1, NOW(3), NOW(3))`,
      [panel.url],
    )) as unknown as { insertId: number };
    await db.dataSource.query('UPDATE panels SET credentials_sealed = ? WHERE id = ?', [
      new SecretBox(key).sealJson({ apiKey: panel.apiKey }, `panels:${panelId}`),
      panelId,
    ]);
    for (const username of ['a', 'b', 'c'])
      await db.dataSource.query(
        `INSERT INTO reseller_configs (reseller_id, panel_id, external_username, created_at, updated_at)
         VALUES (?, ?, ?, NOW(3), NOW(3))`,
        [resellerId, panelId, username],
      );
    await probe.watch([Topic.UsageRequested, Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, GATEWAY_API_KEYS: API_KEY };
    scheduler = await startAppProcess(
      'scheduler',
      {
        ...common,
        SCHEDULER_CLOCK: 'manual',
        SCHEDULER_CLOCK_START: start.toISOString(),
        SCHEDULER_RUN_ON_START: 'none',
      },
      'usage-schedule-scheduler',
    );
    usage = await startAppProcess(
      'usage-sync',
      {
        ...common,
        KAFKA_GROUP_ID: await freshGroup('usage-schedule', [Topic.UsageRequested]),
        SECRETS_KEY: key.toString('base64'),
        USAGE_PANEL_TIMEOUT: '10',
      },
      'usage-schedule-usage-sync',
    );
  });

  after(async () => {
    await usage?.stop();
    await scheduler?.stop();
    await probe.close();
    await panel.stop();
    await db?.drop();
  });

  it('interval 3: ticks at the minutes divisible by 3; a tick while the previous run still holds its 300 s lease is skipped as overlap', async () => {
    const set = await fetch(`${scheduler.url}/api/settings/reseller.usage_sync_interval_minutes`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: 3 }),
    });
    assert.equal(set.status, 200, await set.text());
    assert.equal((await move({})).leader, true);
    // m+1, m+2: the first slot divisible by 3 (the run is slow: three reads of 3 s).
    await move({ advance_minutes: 1 });
    await move({ advance_minutes: 1 });
    const [first] = await eventually(() => (usageTicks().length === 1 ? usageTicks() : undefined), 'the first tick');
    // Three more simulated minutes take a moment of real time: the first run is still reading.
    for (let i = 0; i < 3; i++) await move({ advance_minutes: 1 });
    const second = await eventually(() => usageTicks()[1], 'the second tick');
    const skipped = await endOf(second.json.payload.runId, 20000);
    assert.equal(skipped.topic, Topic.RunSkipped, 'the second tick inside the lease');
    assert.equal(skipped.json.payload.skipReason, 'overlap');
    const completed = await endOf(first.json.payload.runId);
    assert.equal(completed.topic, Topic.RunCompleted, completed.value);
    assert.equal(completed.json.payload.stats.fetched, 3);

    // Once the first run is over (its lease released, just after its `completed` went out), the next slot runs.
    await eventually(
      async () =>
        Number(
          (
            await db.dataSource.query<Array<{ n: number | string }>>(
              'SELECT COUNT(*) AS n FROM job_leases WHERE name = ?',
              [jobLeaseName({ companyId: 1, domain: 'usage', job: 'reseller.usage' })],
            )
          )[0].n,
        ) === 0 || undefined,
      "the first run's lease released",
    );
    panel.setLatency(0);
    for (let i = 0; i < 3; i++) await move({ advance_minutes: 1 });
    const third = await eventually(() => usageTicks()[2], 'the third tick');
    const ran = await endOf(third.json.payload.runId);
    assert.equal(ran.topic, Topic.RunCompleted, ran.value);

    const slots = usageTicks().map((t) => new Date(t.json.payload.scheduledFor));
    assert.equal(slots.length, 3, 'one tick per slot, no other minute');
    for (const slot of slots) assert.equal(slot.getUTCMinutes() % 3, 0, `${slot.toISOString()} is a multiple of 3`);
    assert.deepEqual(
      slots.map((s) => s.getTime() - slots[0].getTime()),
      [0, 3 * MINUTE, 6 * MINUTE],
    );
    assert.equal(slots[0].getTime(), start.getTime() - 30_000 + 2 * MINUTE);
    for (const t of usageTicks()) assert.equal(t.key, '1:usage:reseller.usage');
  });
});
