import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notRegisteredReason, Topic } from '@sync-hub/contracts';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { KafkaProbe, SeenMessage } from '../support/kafka';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-scheduler-key-0123456789';
const TICK_TOPICS = [Topic.SplynxRequested, Topic.AccountingRequested, Topic.CrmRequested, Topic.UsageRequested];
// The manual clock runs in 2020: every tick these tests publish is stale in real time, so no later consumer runs it.
const START = '2020-01-06T09:59:30.000Z'; // a Monday

interface Step {
  now: string;
  leader: boolean;
  ticks: number;
  skipped: number;
}

async function move(app: AppProcess, body: object): Promise<Step> {
  const res = await fetch(`${app.url}/__clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as Step;
}

const api = (app: AppProcess, path: string, init: RequestInit = {}) =>
  fetch(`${app.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });

/**
 * Every slot of the company-1 schedules that run in (from, to]: hourly at :00 (splynx/customers, accounting/ping),
 * every 5 minutes (crm/ping), every N minutes from the usage setting (usage/ping); nothing else (Monday, no
 * 03:00/04:00/22:00, no Sunday 05:00). The seeded cp.export and reseller.usage rows run `ping` here; the seeded hourly
 * cp.visit becomes `cp.retired`, a job this version does not register, and must never tick.
 */
function expectedSlots(from: string, to: string, usageEvery = 5): string[] {
  const out: string[] = [];
  for (let t = Math.floor(Date.parse(from) / 60000) * 60000 + 60000; t <= Date.parse(to); t += 60000) {
    const d = new Date(t);
    const iso = d.toISOString();
    const m = d.getUTCMinutes();
    if (m === 0) out.push(`splynx/customers@${iso}`, `accounting/ping@${iso}`);
    if (m % 5 === 0) out.push(`crm/ping@${iso}`);
    if (m % usageEvery === 0) out.push(`usage/ping@${iso}`);
  }
  return out.sort();
}

describe('scheduler replicas with an injected clock (real Kafka and MariaDB)', () => {
  let db: TestDatabase;
  const replicas: AppProcess[] = [];
  const probe = new KafkaProbe();
  const ticksBetween = (from: string, to: string): SeenMessage[] =>
    probe.seen.filter(
      (m) =>
        TICK_TOPICS.includes(m.topic as Topic) &&
        m.json?.payload?.scheduledFor > from &&
        m.json.payload.scheduledFor <= to &&
        m.json.payload.trigger === 'schedule' &&
        m.json.payload.companyId === 1 &&
        m.json.occurredAt >= suiteStart,
    );
  /** This run's messages only: the probe reads topics from the beginning, and a developer's broker may be reused. */
  const fresh = () => probe.seen.filter((m) => m.json?.occurredAt >= suiteStart);
  const slotOf = (m: SeenMessage) => `${m.json.payload.domain}/${m.json.payload.job}@${m.json.payload.scheduledFor}`;
  const suiteStart = new Date().toISOString();

  before(async () => {
    db = await createTestDatabase('scheduler');
    // Registered jobs on the seeded cadences (the usage row keeps its interval setting), and an hourly accounting ping.
    await db.dataSource.query(
      "UPDATE schedules SET job_type = 'ping' WHERE company_id = 1 AND ((domain = 'crm' AND job_type = 'cp.export') OR (domain = 'usage' AND job_type = 'reseller.usage'))",
    );
    // An hourly schedule of a job no handler is registered for (one a later version dropped).
    await db.dataSource.query(
      "UPDATE schedules SET job_type = 'cp.retired' WHERE company_id = 1 AND domain = 'crm' AND job_type = 'cp.visit'",
    );
    await db.dataSource.query(
      `INSERT INTO schedules (company_id, domain, job_type, frequency, minute, timezone, enabled, overlap_policy, catchup_window_s, created_at, updated_at)
       VALUES (1, 'accounting', 'ping', 'hourly', 0, 'UTC', 1, 'skip', 3600, '2020-01-06 09:00:00', '2020-01-06 09:00:00')`,
    );
    await probe.watch([...TICK_TOPICS, Topic.RunSkipped]);
    const env = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
      SCHEDULER_CLOCK: 'manual',
      SCHEDULER_CLOCK_START: START,
      SCHEDULER_LEADER_LEASE_MS: '30000',
      SCHEDULER_RUN_ON_START: 'none',
    };
    for (const name of ['scheduler-a', 'scheduler-b']) replicas.push(await startAppProcess('scheduler', env, name));
  });

  after(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await probe.close();
    await db?.drop();
  });

  it('two replicas over two simulated hours give exactly one tick per slot, from one leader at a time', async () => {
    const first = await Promise.all(replicas.map((r) => move(r, {})));
    assert.equal(first.filter((s) => s.leader).length, 1, 'one leader');
    for (let i = 0; i < 120; i++) {
      const steps = await Promise.all(replicas.map((r) => move(r, { advance_minutes: 1 })));
      assert.equal(steps.filter((s) => s.leader).length, 1, `one leader at ${steps[0].now}`);
    }
    const expected = expectedSlots(START, '2020-01-06T11:59:30.000Z');
    assert.equal(expected.length, 52);
    const seen = await eventually(
      () => {
        const ticks = ticksBetween(START, '2020-01-06T11:59:30.000Z');
        return ticks.length >= expected.length ? ticks : undefined;
      },
      'all 52 ticks on Kafka',
      30000,
    );
    await new Promise((r) => setTimeout(r, 500)); // a doubled tick would arrive by now
    assert.deepEqual(
      ticksBetween(START, '2020-01-06T11:59:30.000Z').map(slotOf).sort(),
      expected,
      'every slot once, none doubled',
    );
    for (const t of seen) assert.equal(t.key, `1:${t.json.payload.domain}:${t.json.payload.job}`);
    const runIds = new Set(seen.map((t) => t.json.payload.runId));
    assert.equal(runIds.size, seen.length, 'one run id per slot');
  });

  it('seeded schedules of jobs without a handler came up disabled, saying why, and never ticked', async () => {
    const list = (await (await api(replicas[0], '/api/companies/1/schedules')).json()) as Array<{
      domain: string;
      job_type: string;
      enabled: boolean;
      paused_reason: string | null;
      next_run_at: string | null;
    }>;
    const unregistered = list.filter((s) => s.job_type === 'cp.retired');
    assert.equal(unregistered.length, 1);
    for (const s of unregistered)
      assert.deepEqual(
        [s.enabled, s.paused_reason, s.next_run_at],
        [false, notRegisteredReason(s.domain, s.job_type), null],
        `${s.domain}/${s.job_type}`,
      );
    assert.ok(list.filter((s) => s.job_type === 'ping' || s.job_type === 'customers').every((s) => s.enabled));
    // cp.retired is hourly: its 10:00 and 11:00 slots passed in the test above.
    assert.equal(
      fresh().filter((m) => m.json?.payload?.job === 'cp.retired').length,
      0,
      'no tick and no skipped event for cp.retired',
    );
  });

  it('when the leader dies, the standby takes over within one lease period, with no slot lost or doubled', async () => {
    const steps = await Promise.all(replicas.map((r) => move(r, {})));
    const leaderIndex = steps.findIndex((s) => s.leader);
    const [leader] = replicas.splice(leaderIndex, 1);
    leader.child.kill('SIGKILL'); // no goodbye: its lease must expire
    await new Promise((r) => leader.child.once('exit', r));
    const standby = replicas[0];
    const firstAfter = await move(standby, { advance_minutes: 1 }); // 12:00:30, 60 s after the dead leader's last renewal
    assert.equal(firstAfter.leader, true, 'the standby leads after one lease period (30 s)');
    for (let i = 0; i < 29; i++) assert.equal((await move(standby, { advance_minutes: 1 })).leader, true);
    const expected = expectedSlots('2020-01-06T11:59:30.000Z', '2020-01-06T12:29:30.000Z');
    await eventually(
      () =>
        ticksBetween('2020-01-06T11:59:30.000Z', '2020-01-06T12:29:30.000Z').length >= expected.length
          ? true
          : undefined,
      'ticks after the take-over',
      30000,
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(ticksBetween('2020-01-06T11:59:30.000Z', '2020-01-06T12:29:30.000Z').map(slotOf).sort(), expected);
  });

  it('a scheduler down for 10 simulated minutes runs one catch-up tick per schedule and reports the older slot as missed', async () => {
    const standby = replicas[0];
    const step = await move(standby, { advance_minutes: 10 }); // 12:29:30 → 12:39:30: slots 12:30 and 12:35 passed unseen
    assert.equal(step.ticks, 2, 'crm/ping (every 5) and usage/ping (the usage interval), once each');
    assert.equal(step.skipped, 2);
    await eventually(
      () => (ticksBetween('2020-01-06T12:29:30.000Z', '2020-01-06T12:39:30.000Z').length === 2 ? true : undefined),
      'the catch-up ticks',
      20000,
    );
    assert.deepEqual(ticksBetween('2020-01-06T12:29:30.000Z', '2020-01-06T12:39:30.000Z').map(slotOf).sort(), [
      'crm/ping@2020-01-06T12:35:00.000Z',
      'usage/ping@2020-01-06T12:35:00.000Z',
    ]);
    const missed = await eventually(() => {
      const m = fresh().filter(
        (s) =>
          s.topic === Topic.RunSkipped &&
          s.json?.payload?.skipReason === 'missed' &&
          s.json.payload.scheduledFor === '2020-01-06T12:30:00.000Z',
      );
      return m.length === 2 ? m : undefined;
    }, 'two missed-slot events');
    assert.deepEqual(missed.map((m) => `${m.json.payload.domain}/${m.json.payload.job}`).sort(), [
      'crm/ping',
      'usage/ping',
    ]);
  });

  it('a slot older than its catch-up window is only reported as skipped', async () => {
    const standby = replicas[0];
    const list = (await (await api(standby, '/api/companies/1/schedules')).json()) as Array<{
      domain: string;
      job_type: string;
      frequency: string;
      interval_minutes: number;
    }>;
    const everyFive = list.find((s) => s.domain === 'crm' && s.job_type === 'ping')!;
    const res = await api(standby, '/api/companies/1/schedules', {
      method: 'POST',
      body: JSON.stringify({
        domain: 'crm',
        job_type: 'ping',
        frequency: 'every_minutes',
        interval_minutes: everyFive.interval_minutes,
        catchup_window_s: 60,
      }),
    });
    assert.equal(res.status, 200);
    const step = await move(standby, { advance_minutes: 10 }); // 12:49:30: the 12:45 slot is 4.5 minutes old
    assert.equal(step.ticks, 1, 'only usage/ping, whose window is an hour');
    await eventually(
      () =>
        fresh().find(
          (s) =>
            s.topic === Topic.RunSkipped &&
            s.json?.payload?.domain === 'crm' &&
            s.json.payload.job === 'ping' &&
            s.json.payload.scheduledFor === '2020-01-06T12:40:00.000Z',
        ),
      'crm/ping reported skipped',
    );
  });

  it('a settings change takes effect at the next minute, without a restart', async () => {
    const standby = replicas[0];
    await move(standby, { advance_minutes: 1 }); // 12:50:30
    const set = await api(standby, '/api/settings/reseller.usage_sync_interval_minutes', {
      method: 'PUT',
      body: JSON.stringify({ value: 1 }),
    });
    assert.deepEqual(await set.json(), { key: 'reseller.usage_sync_interval_minutes', value: 1, effective_value: 1 });
    await move(standby, { advance_minutes: 1 }); // 12:51:30
    const usage = (s: SeenMessage) => s.json?.payload?.domain === 'usage' && s.json.payload.job === 'ping';
    await eventually(
      () => fresh().find((s) => usage(s) && s.json.payload.scheduledFor === '2020-01-06T12:51:00.000Z'),
      'a usage tick at 12:51, not a multiple of 5',
    );
    await api(standby, '/api/settings/reseller.usage_sync_interval_minutes', {
      method: 'PUT',
      body: JSON.stringify({ value: 5 }),
    });
    await move(standby, { advance_minutes: 1 }); // 12:52:30
    await move(standby, { advance_minutes: 3 }); // 12:55:30
    await eventually(
      () => fresh().find((s) => usage(s) && s.json.payload.scheduledFor === '2020-01-06T12:55:00.000Z'),
      'back to every 5 minutes',
    );
    assert.equal(
      fresh().filter(
        (s) =>
          usage(s) && ['2020-01-06T12:52:00.000Z', '2020-01-06T12:53:00.000Z'].includes(s.json.payload.scheduledFor),
      ).length,
      0,
    );
  });
});
