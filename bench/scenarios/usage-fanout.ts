import { randomBytes } from 'node:crypto';
import { Topic } from '@sync-hub/contracts';
import { SecretBox } from '@sync-hub/persistence';
import { EylandooSimulator, MarzbanSimulator, MarzneshinSimulator, ThreeXuiSimulator } from '@sync-hub/simulators';
import { AppProcess, startAppProcess } from '../../test/support/app-process';
import { createTestDatabase, TestDatabase } from '../../test/support/database';
import { TEST_KAFKA_BROKERS } from '../../test/support/env';
import { groupStartingNow, KafkaProbe } from '../../test/support/kafka';
import { tick } from '../../test/support/ticks';
import { figure, Figure, rssOf, seconds } from '../stats';

export interface UsageFanoutResult {
  configs: number;
  panels: number;
  latencyMs: number;
  /** panels.max_concurrency of every panel (the default, 8). */
  panelConcurrency: number;
  /** configs × latency: one request after the other. */
  serialSeconds: number;
  runSeconds: Figure;
  /** serialSeconds / the run's time (goal ≥ 20). */
  speedup: Figure;
  /** The most requests any one panel served at once, over every repetition (must not exceed panelConcurrency). */
  maxPanelInFlight: number;
  stats: Record<string, unknown>;
  /** usage-sync's peak resident memory (VmHWM), one fresh process per run: at full size and at a tenth of it. */
  peakRssMb: Figure;
  tenthPeakRssMb: Figure;
  restRssMb: Figure;
}

/** One panel of the bench: its simulator, the stored panel row's fields, and its peak of requests in flight. */
interface BenchPanel {
  type: 'eylandoo' | 'marzban' | 'marzneshin' | '3x-ui';
  url: string;
  credentials: Record<string, string>;
  /** The simulator's generated user `i` (1-based), as a config's external_username. */
  username(i: number): string;
  peakInFlight(): number;
  resetCounters(): void;
  stop(): Promise<void>;
}

const PANEL_CONCURRENCY = 8;
/** Two panels of each type. */
const TYPES = ['eylandoo', 'marzban', 'marzneshin', '3x-ui'] as const;

async function startPanel(type: BenchPanel['type'], n: number, users: number, latencyMs: number): Promise<BenchPanel> {
  const seed = 1300 + n;
  if (type === 'eylandoo' || type === 'marzban') {
    const sim =
      type === 'eylandoo' ? new EylandooSimulator({ seed, latencyMs }) : new MarzbanSimulator({ seed, latencyMs });
    await sim.start();
    return {
      type,
      url: sim.url,
      credentials:
        sim instanceof EylandooSimulator
          ? { apiKey: sim.apiKey }
          : { username: sim.adminUsername, password: sim.adminPassword },
      username: (i) => `user${i}`,
      peakInFlight: () => sim.counters.maxInFlight,
      resetCounters: () => sim.resetCounters(),
      stop: () => sim.stop(),
    };
  }
  const sim =
    type === 'marzneshin'
      ? new MarzneshinSimulator({ seed, latencyMs, users })
      : new ThreeXuiSimulator({ seed, latencyMs, users });
  await sim.start();
  return {
    type,
    url: sim.url,
    credentials: { username: sim.adminUsername, password: sim.adminPassword },
    username: (i) => `user${i}`,
    peakInFlight: () => sim.counters.peakInFlight,
    resetCounters: () => sim.resetCounters(),
    stop: () => sim.stop(),
  };
}

/**
 * Scenario 11: one `reseller.usage` run over `configs` reseller configs spread evenly over 8 panels (two of each type,
 * each simulator answering after `latencyMs`), tick to `completed`, against the serial time (configs × latency): the
 * issue asks for ≥ 20 times faster with no panel ever serving more than its concurrency (8) at once. usage-sync is its
 * own process on Kafka and MariaDB, started with its Deployment's flags; each repetition is a fresh process (its peak
 * RSS read), and a run of a tenth of the configs, in a fresh process too, shows whether the peak depends on the size.
 */
export async function usageFanout(opts: {
  configs: number;
  reps: number;
  latencyMs?: number;
}): Promise<UsageFanoutResult> {
  const latencyMs = opts.latencyMs ?? 50;
  const perPanel = Math.ceil(opts.configs / (TYPES.length * 2));
  const panels: BenchPanel[] = [];
  for (const [n, type] of [...TYPES, ...TYPES].entries()) panels.push(await startPanel(type, n, perPanel, latencyMs));
  const key = randomBytes(32);
  const probe = new KafkaProbe();
  await probe.watch([Topic.RunCompleted, Topic.RunFailed, Topic.RunSkipped]);
  const db = await createTestDatabase('bench_usage');
  const panelIds = await seedPanels(db, panels, new SecretBox(key));

  const start = async (label: string): Promise<AppProcess> =>
    startAppProcess(
      'usage-sync',
      {
        KAFKA_BROKERS: TEST_KAFKA_BROKERS,
        // Ticks an earlier suite left on the broker must not run during the bench.
        KAFKA_GROUP_ID: await groupStartingNow(`bench-usage-${randomBytes(4).toString('hex')}`, [Topic.UsageRequested]),
        DATABASE_URL: db.url,
        SECRETS_KEY: key.toString('base64'),
        // It serves /api (the management routes), so it starts only with keys; the bench calls none of them.
        GATEWAY_API_KEYS: randomBytes(16).toString('hex'),
        LOG_LEVEL: 'warn',
      },
      label,
    );
  /** One run over `each` configs on every panel (the first `each` users of each), in a fresh process. */
  const run = async (each: number, label: string) => {
    const count = each * panels.length;
    await seedConfigs(db, panelIds, panels, each);
    for (const p of panels) p.resetCounters();
    const app = await start(label);
    try {
      const rest = rssOf(app.child.pid!).now;
      const t = tick('usage', 'reseller.usage');
      const begun = process.hrtime.bigint();
      await probe.produce(Topic.UsageRequested, t.key, t.value);
      const end = await probe.waitForRunEnd(t.value.runId!, 15 * 60000);
      const took = seconds(begun);
      if (end.topic !== Topic.RunCompleted) throw new Error(`benchmark run ended ${end.topic}: ${end.value}`);
      const stats = (end.json as { payload?: { stats?: Record<string, unknown> } } | null)?.payload?.stats ?? {};
      const [synced] = await db.dataSource.query<Array<{ n: number | string }>>(
        'SELECT COUNT(*) AS n FROM reseller_configs WHERE usage_synced_at IS NOT NULL AND last_usage_error IS NULL',
      );
      if (Number(synced.n) !== count) throw new Error(`the run synced ${synced.n} of ${count} configs`);
      return {
        seconds: took,
        stats,
        rest,
        peak: rssOf(app.child.pid!).peak,
        inFlight: Math.max(...panels.map((p) => p.peakInFlight())),
      };
    } finally {
      await app.stop();
    }
  };

  const runs: Array<Awaited<ReturnType<typeof run>>> = [];
  const tenthPeaks: number[] = [];
  try {
    for (let rep = 0; rep < opts.reps; rep++) {
      runs.push(await run(perPanel, 'bench-usage'));
      tenthPeaks.push((await run(Math.max(1, Math.round(perPanel / 10)), 'bench-usage-tenth')).peak);
    }
  } finally {
    await probe.close();
    for (const p of panels) await p.stop();
    await db.drop();
  }
  const configs = perPanel * panels.length;
  const serialSeconds = (configs * latencyMs) / 1000;
  return {
    configs,
    panels: panels.length,
    latencyMs,
    panelConcurrency: PANEL_CONCURRENCY,
    serialSeconds,
    runSeconds: figure(
      runs.map((r) => r.seconds),
      's',
    ),
    speedup: figure(
      runs.map((r) => serialSeconds / r.seconds),
      '×',
    ),
    maxPanelInFlight: Math.max(...runs.map((r) => r.inFlight)),
    stats: runs[runs.length - 1].stats,
    peakRssMb: figure(
      runs.map((r) => r.peak),
      'MB',
    ),
    tenthPeakRssMb: figure(tenthPeaks, 'MB'),
    restRssMb: figure(
      runs.map((r) => r.rest),
      'MB',
    ),
  };
}

/** One reseller and the 8 panels, credentials sealed as PanelSecrets seals them (bound to `panels:<id>`). */
async function seedPanels(db: TestDatabase, panels: BenchPanel[], box: SecretBox): Promise<number[]> {
  const now = new Date();
  await db.dataSource.query('INSERT INTO resellers (id, name, created_at, updated_at) VALUES (1, ?, ?, ?)', [
    'Bench reseller',
    now,
    now,
  ]);
  const ids: number[] = [];
  for (const [i, p] of panels.entries()) {
    const id = i + 1;
    await db.dataSource.query(
      `INSERT INTO panels (id, name, type, url, credentials_sealed, settings, max_concurrency, active, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, NULL, ?, 1, ?, ?)`,
      [
        id,
        `bench-${p.type}-${id}`,
        p.type,
        p.url,
        box.sealJson(p.credentials, `panels:${id}`),
        PANEL_CONCURRENCY,
        now,
        now,
      ],
    );
    ids.push(id);
  }
  return ids;
}

/** Replaces every config with `perPanel` fresh ones per panel (usage 0, never synced), inserted 1,000 at a time. */
async function seedConfigs(
  db: TestDatabase,
  panelIds: number[],
  panels: BenchPanel[],
  perPanel: number,
): Promise<void> {
  await db.dataSource.query('DELETE FROM reseller_configs');
  const now = new Date();
  const rows: unknown[][] = [];
  for (const [i, panelId] of panelIds.entries())
    for (let u = 1; u <= perPanel; u++)
      rows.push([1, panelId, panels[i].username(u), 'active', 10 * 2 ** 30, now, now]);
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await db.dataSource.query(
      `INSERT INTO reseller_configs (reseller_id, panel_id, external_username, status, traffic_limit_bytes, created_at, updated_at)
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      chunk.flat(),
    );
  }
}
