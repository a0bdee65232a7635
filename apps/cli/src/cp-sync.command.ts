import { randomUUID } from 'node:crypto';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import { CP_EXPORT, CpExportParams, RunStats, SyncRequestedPayload, TableStats } from '@sync-hub/contracts';
import { JobLeasesService } from '@sync-hub/persistence';
import { PlatformModule } from '@sync-hub/platform';
import { jobLeaseName, RunExecutor, RunOutcome } from '@sync-hub/runs';
import { Logger } from 'nestjs-pino';
import { CP_TABLE_SPECS, CpExportService, CpRoundProgress, cpTableSpec, CRM_SYNC_FEATURES } from '../../crm-sync/src';
import { Output } from './robaws-sync-customers.command';
import { textTable } from './table';
import { UsageError } from './usage-error';

/** The flags of `cp:sync` as commander parses them. */
export interface CpSyncOptions {
  test: boolean;
  state: boolean;
  reset: boolean;
  loop?: number;
  table?: string;
}

/** What one `cp:sync` does: probe the export, list the streams, or (reset cursors and/or) run rounds. */
export type CpSyncPlan =
  { kind: 'test' } | { kind: 'state' } | { kind: 'sync'; reset: string[] | 'all' | null; loops: number | null };

/** The CLI's rounds are a run of crm/cp.export for company 1, the company the seeded schedules run it for. */
const COMPANY_ID = 1;
/** How long the CLI holds the tables' lease while it sets cursors back (a few statements; expires if the CLI dies). */
const RESET_LEASE_MS = 60_000;
const TABLES = CP_TABLE_SPECS.map((s) => s.source);
const COUNTS: Array<keyof TableStats> = ['fetched', 'created', 'updated', 'unchanged', 'failed'];

/**
 * Checks the flags' combination before anything connects (a usage error is exit 2): `--test` and `--state` go alone,
 * `--table` goes with `--reset` (a round always asks for every table) and names one of the seven.
 */
export function cpSyncPlan(opts: CpSyncOptions): CpSyncPlan {
  const givenBesides = (flag: string) =>
    [
      opts.test && '--test',
      opts.state && '--state',
      opts.reset && '--reset',
      opts.loop !== undefined && '--loop',
      opts.table !== undefined && '--table',
    ].filter((f) => f && f !== flag);
  if (opts.test || opts.state) {
    const flag = opts.test ? '--test' : '--state';
    const others = givenBesides(flag);
    if (others.length > 0) throw new UsageError(`${flag} goes alone (not with ${others.join(', ')})`);
    return { kind: opts.test ? 'test' : 'state' };
  }
  if (opts.table !== undefined) {
    if (!opts.reset)
      throw new UsageError(
        '--table goes with --reset: a round always asks for every table (cp:sync --reset --table=NAME)',
      );
    if (!cpTableSpec(opts.table))
      throw new UsageError(`unknown table "${opts.table}": --table is one of ${TABLES.join(', ')}`);
  }
  if (opts.reset)
    return { kind: 'sync', reset: opts.table !== undefined ? [opts.table] : 'all', loops: opts.loop ?? null };
  return { kind: 'sync', reset: null, loops: opts.loop ?? 1 };
}

/** Whether the plan talks to the export (and so needs it, or the embedded simulator). */
export function cpSyncNeedsExport(plan: CpSyncPlan): boolean {
  return plan.kind === 'test' || (plan.kind === 'sync' && plan.loops !== null);
}

async function context(config: AppConfig): Promise<INestApplicationContext> {
  @Module({ imports: [PlatformModule.forConfig(config), ...CRM_SYNC_FEATURES] })
  class CpCliModule {}
  const app = await NestFactory.createApplicationContext(CpCliModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  return app;
}

/** The export's URL without its query or credentials, to say where the CLI looked. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/**
 * Whatever the command prints goes through here: the token, should anything carry it, never reaches the screen. As
 * the HTTP client's redaction, a token under 4 characters is left alone (it would mangle ordinary words).
 */
function scrubbed(out: Output, token: string): Output {
  if (token.length < 4) return out;
  return { isTTY: out.isTTY, write: (text) => out.write(text.split(token).join('[redacted]')) };
}

/**
 * `cp:sync [--test] [--state] [--loop=N] [--reset] [--table=NAME]` (seed 002's command). `--test` sends one request
 * with `limit` 1; `--state` lists the seven export streams; `--reset` sets export cursors back to 0 (all or one
 * table) under the tables' lease, then stops unless `--loop` is given; otherwise one round (or up to `--loop=N`) as a
 * run of crm/cp.export (trigger `cli`, the job's lease, its run events). Answers the exit code: 0 done, 1 failed
 * (a refused token included) or not run.
 */
export async function cpSync(config: AppConfig, plan: CpSyncPlan, output: Output): Promise<number> {
  const out = scrubbed(output, config.crm.cp.token);
  if (cpSyncNeedsExport(plan) && !config.crm.cp.exportUrl)
    throw new UsageError(
      'CP_EXPORT_URL is not set: the loyalty-club export has no upstream (and CP_EXPORT_TOKEN with it)',
    );
  const app = await context(config);
  try {
    const cp = app.get(CpExportService);
    if (plan.kind === 'test') return await test(cp, config, out);
    if (plan.kind === 'state') {
      out.write(stateTable(await cp.state()));
      return 0;
    }
    if (plan.reset !== null) {
      const code = await reset(app, cp, plan.reset, out);
      if (code !== 0 || plan.loops === null) return code;
    }
    return await rounds(app, cp, plan.loops ?? 1, out);
  } finally {
    await app.close();
  }
}

async function test(cp: CpExportService, config: AppConfig, out: Output): Promise<number> {
  const probe = await cp.probe();
  const ok = probe.reachable && probe.authorised === true && probe.problem === null;
  out.write(`Loyalty-club export ${shownUrl(config.crm.cp.exportUrl ?? '')}\n`);
  out.write(
    textTable(
      ['check', 'result'],
      [
        ['reachable', probe.reachable ? 'yes' : 'NO'],
        ['authorised', probe.authorised === null ? 'unknown' : probe.authorised ? 'yes' : 'NO'],
        ['latency', `${probe.latencyMs} ms`],
      ],
    ),
  );
  if (ok) {
    out.write('OK: the export answered and took the token\n');
    return 0;
  }
  out.write(`problem: ${probe.problem ?? 'unknown'}\n`);
  out.write(`fix: ${fixFor(probe)}\n`);
  return 1;
}

function fixFor(probe: { reachable: boolean; authorised: boolean | null; problem: string | null }): string {
  if (!probe.reachable)
    return 'check CP_EXPORT_URL (the host, port and path) and that this machine reaches it; CP_EXPORT_TIMEOUT bounds each attempt';
  if (probe.authorised === false)
    return 'check CP_EXPORT_TOKEN: the hub sends it as `Authorization: Bearer <token>`, so set the token alone, without "Bearer"';
  return 'the export answered with an error: check CP_EXPORT_URL points at the export itself, or try again later if it is failing upstream';
}

function stateTable(streams: Awaited<ReturnType<CpExportService['state']>>): string {
  return textTable(
    ['table', 'destination', 'last inserted id', 'last synced at', 'rows stored'],
    streams.map((s) => [
      s.table,
      s.destination,
      String(s.lastId),
      s.lastSyncedAt ? s.lastSyncedAt.toISOString() : 'never',
      String(s.rows),
    ]),
  );
}

/**
 * Cursors back to 0 under the lease the export and the reconcile share: a run in flight keeps its cursors in memory
 * and writes them at its end, which would undo a reset made beside it.
 */
async function reset(
  app: INestApplicationContext,
  cp: CpExportService,
  tables: string[] | 'all',
  out: Output,
): Promise<number> {
  const leases = app.get(JobLeasesService);
  const lease = jobLeaseName({ companyId: COMPANY_ID, domain: 'crm', job: CP_EXPORT.job });
  const owner = `cli:cp.reset:${randomUUID()}`;
  if (!(await leases.acquire(lease, owner, RESET_LEASE_MS, new Date()))) {
    const holder = await leases.holder(lease, new Date());
    out.write(
      `not reset: a loyalty-club export or reconcile is running${holder?.runId ? ` (run ${holder.runId})` : ''}; ` +
        'try again when it ends\n',
    );
    return 1;
  }
  try {
    const done = await cp.reset(tables === 'all' ? undefined : tables);
    out.write(`Export cursors set back to 0: ${done.join(', ')} (the next export reads them from the first id)\n`);
    return 0;
  } finally {
    await leases.release(lease, owner);
  }
}

/** One line per round off a terminal; on one, a single line rewritten. */
function progressPrinter(out: Output): { round: (p: CpRoundProgress) => void; end: () => void } {
  let drawn = 0;
  return {
    round({ round, maxRounds, stats, withMore }) {
      const more = withMore.length ? `${withMore.length} table(s) with more` : 'no table has more';
      const line = `round ${round}/${maxRounds}: fetched ${stats.fetched}, ${more}`;
      if (out.isTTY) {
        out.write(`\r${line.padEnd(drawn)}`);
        drawn = line.length;
      } else out.write(`${line}\n`);
    },
    end() {
      if (drawn) out.write('\n');
      drawn = 0;
    },
  };
}

function tick(params: CpExportParams): SyncRequestedPayload {
  const now = new Date();
  return {
    runId: randomUUID(),
    domain: 'crm',
    job: CP_EXPORT.job,
    companyId: COMPANY_ID,
    trigger: 'cli',
    scheduledFor: now.toISOString(),
    deadline: new Date(now.getTime() + 86_400_000).toISOString(),
    params: { ...params },
  };
}

/** The rounds as a run of crm/cp.export: claimed, under the tables' lease, with its run events, like any run. */
async function rounds(app: INestApplicationContext, cp: CpExportService, loops: number, out: Output): Promise<number> {
  const progress = progressPrinter(out);
  let last: CpRoundProgress | null = null;
  const unobserve = cp.observe((p) => {
    last = p;
    progress.round(p);
  });
  const t = tick({ loops });
  let outcome: RunOutcome;
  try {
    outcome = await app.get(RunExecutor).execute(t);
  } finally {
    unobserve();
    progress.end();
  }
  if (outcome.status === 'skipped' && outcome.reason === 'overlap') {
    out.write(`not run: a loyalty-club export or reconcile is running; try again when it ends (run ${t.runId})\n`);
    return 1;
  }
  if (outcome.status !== 'completed' && outcome.status !== 'failed') {
    out.write(`not run: ${outcome.status === 'skipped' ? outcome.reason : outcome.status} (run ${t.runId})\n`);
    return 1;
  }
  const stats = outcome.stats;
  out.write(`Loyalty-club export: ${stats.rounds ?? 0} round(s) of at most ${loops} (run ${t.runId})\n`);
  out.write(statsTable(stats));
  if (outcome.status === 'failed') {
    const e = outcome.error;
    out.write(
      `cp.export (run ${t.runId}) FAILED [${e.origin}/${e.code}${e.retriable ? ', retriable' : ''}]: ${e.message}\n`,
    );
    return 1;
  }
  const withMore = (last as CpRoundProgress | null)?.withMore ?? [];
  out.write(
    withMore.length
      ? `Still to sync: ${withMore.join(', ')} (run cp:sync --loop=N again, or the schedule goes on)\n`
      : 'Every table is up to date\n',
  );
  return 0;
}

function statsTable(stats: RunStats): string {
  const tables = stats.tables ?? {};
  const row = (name: string, s: Partial<TableStats>) => [name, ...COUNTS.map((k) => String(s[k] ?? 0))];
  return textTable(['table', ...COUNTS], [...TABLES.map((name) => row(name, tables[name] ?? {})), row('total', stats)]);
}
