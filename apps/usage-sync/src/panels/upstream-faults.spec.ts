import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EylandooSimulator, MarzbanSimulator, MarzneshinSimulator, ThreeXuiSimulator } from '@sync-hub/simulators';
import { EylandooAdapter } from './eylandoo.adapter';
import { MarzbanAdapter, MarzneshinAdapter } from './jwt-panel.adapter';
import { PanelAdapter, PanelTarget, UsageReading, UsageTarget } from './panel-adapter';
import { ThreeXuiAdapter } from './threexui.adapter';

const HTTP = { timeoutMs: 300, maxConcurrency: 2 };
const USER = 'user1';
const target: UsageTarget = { configId: 1, externalUsername: USER, panelUserId: null };

/** What the four panel simulators share for these tests. */
interface FaultyPanel {
  counters: { requests: number };
  setFaults(faults: Record<string, unknown>): void;
  resetFaults(): void;
  setUsage(username: string, bytes: number): unknown;
  stop(): Promise<void>;
}

interface Case {
  name: string;
  sim: FaultyPanel;
  start: () => Promise<string>;
  adapter: (url: string) => PanelAdapter;
}

const panel = (type: PanelTarget['type'], url: string, credentials: PanelTarget['credentials']): PanelTarget => ({
  id: 1,
  name: `${type}-faults`,
  type,
  url,
  credentials,
  settings: {},
});

const eylandoo = new EylandooSimulator({ seed: 14, growBytesPerRead: 0 });
const marzban = new MarzbanSimulator({ seed: 14, growBytesPerRead: 0 });
const marzneshin = new MarzneshinSimulator({ seed: 14, growBytesPerRead: 0 });
const threexui = new ThreeXuiSimulator({ seed: 14, growBytesPerRead: 0 });

const CASES: Case[] = [
  {
    name: 'Eylandoo',
    sim: eylandoo,
    start: () => eylandoo.start(),
    adapter: (url) => new EylandooAdapter(panel('eylandoo', url, { apiKey: eylandoo.apiKey }), HTTP),
  },
  {
    name: 'Marzban',
    sim: marzban,
    start: () => marzban.start(),
    adapter: (url) =>
      new MarzbanAdapter(
        panel('marzban', url, { username: marzban.adminUsername, password: marzban.adminPassword }),
        HTTP,
      ),
  },
  {
    name: 'Marzneshin',
    sim: marzneshin,
    start: () => marzneshin.start(),
    adapter: (url) =>
      new MarzneshinAdapter(
        panel('marzneshin', url, { username: marzneshin.adminUsername, password: marzneshin.adminPassword }),
        HTTP,
      ),
  },
  {
    name: '3x-ui',
    sim: threexui,
    start: () => threexui.start(),
    adapter: (url) =>
      new ThreeXuiAdapter(
        panel('3x-ui', url, { username: threexui.adminUsername, password: threexui.adminPassword }),
        HTTP,
      ),
  },
];

/**
 * Slow and failing panels (issue 14, scenario 6). The adapters make one request per read and no retry (the usage design:
 * a failed read is that config's null until the next run, minutes away; the panel's circuit counts it): each fault is
 * one request, a panel-level hard failure (never 0), and the next read is served as usual.
 */
for (const c of CASES) {
  describe(`${c.name} adapter against a slow or failing panel (simulator over HTTP)`, () => {
    let adapter: PanelAdapter;
    /** One read after a fault is set: its reading, the requests the panel received for it, and how long it took. */
    const readOnce = async (): Promise<{ reading: UsageReading; requests: number; ms: number }> => {
      const before = c.sim.counters.requests;
      const started = Date.now();
      const reading = await adapter.read(target);
      return { reading, requests: c.sim.counters.requests - before, ms: Date.now() - started };
    };
    const assertPanelFailure = (reading: UsageReading, pattern: RegExp) => {
      assert.equal(reading.status, 'hard_failure', JSON.stringify(reading));
      assert.equal(reading.status === 'hard_failure' && reading.scope, 'panel');
      assert.match((reading as { error: string }).error, pattern);
    };
    const assertRecovers = async () => {
      c.sim.resetFaults();
      const next = await readOnce();
      assert.deepEqual([next.reading.status, next.requests], ['ok', 1], 'the next read is served as usual');
    };

    before(async () => {
      adapter = c.adapter(await c.start());
      c.sim.setUsage(USER, 5000);
      // Logged in (the JWT panels and 3x-ui): the faults below meet the usage read itself.
      assert.equal((await adapter.read(target)).status, 'ok');
    });
    after(async () => {
      await adapter.close();
      await c.sim.stop();
    });

    it('a 5xx: one request, a panel-level hard failure (null, not 0); the next read works', async () => {
      c.sim.setFaults({ script: [{ kind: 'error', times: 1 }] });
      const { reading, requests } = await readOnce();
      assert.equal(requests, 1);
      assertPanelFailure(reading, /HTTP 500/);
      await assertRecovers();
    });

    it('a panel that hangs: one request, timed out after USAGE_PANEL_TIMEOUT', async () => {
      c.sim.setFaults({ hangNext: 1, hangMs: 2000 });
      const { reading, requests, ms } = await readOnce();
      console.log(`${c.name} hanging: hard failure after ${ms} ms (timeout ${HTTP.timeoutMs} ms)`);
      assert.equal(requests, 1);
      assertPanelFailure(reading, /timed out after 300 ms/);
      assert.ok(ms < 2000, `not waited for the panel (${ms} ms)`);
      await assertRecovers();
    });

    it('a 429, with or without Retry-After: one request, not waited for, a panel-level hard failure', async () => {
      for (const retryAfter of [5, null]) {
        c.sim.setFaults({ script: [{ kind: 'rate-limited', times: 1, retryAfterSeconds: retryAfter }] });
        const { reading, requests, ms } = await readOnce();
        assert.equal(requests, 1);
        assertPanelFailure(reading, /HTTP 429/);
        assert.ok(ms < 1000, `Retry-After ${retryAfter}: not slept (${ms} ms)`);
      }
      await assertRecovers();
    });

    it('a 200 whose JSON is cut off: one request, a panel-level hard failure', async () => {
      c.sim.setFaults({ script: [{ kind: 'truncate', times: 1 }] });
      const { reading, requests } = await readOnce();
      assert.equal(requests, 1);
      assertPanelFailure(reading, /malformed or truncated JSON/);
      await assertRecovers();
    });
  });
}
