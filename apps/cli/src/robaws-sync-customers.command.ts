import { randomUUID } from 'node:crypto';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import {
  ROBAWS_CUSTOMERS_FULL,
  ROBAWS_CUSTOMERS_INCREMENTAL,
  ROBAWS_CUSTOMERS_PUSH,
  RobawsCustomersParams,
  RunStats,
  SyncRequestedPayload,
} from '@sync-hub/contracts';
import { PlatformModule } from '@sync-hub/platform';
import { classifyError, RunExecutor, RunOutcome, statsOf } from '@sync-hub/runs';
import { Logger } from 'nestjs-pino';
import { CRM_SYNC_FEATURES, CustomerPullService, CustomerPushService } from '../../crm-sync/src';
import { textTable } from './table';

export interface RobawsSyncOptions {
  full: boolean;
  push: boolean;
  dryRun: boolean;
  limit?: number;
  clientId?: number;
}

/** Where the command writes: stdout, and whether it is a terminal (a progress bar) or not (a line per page). */
export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

/** A run's counts (the per-table breakdown of multi-table jobs aside). */
type Counts = Partial<Omit<RunStats, 'tables' | 'panelTypes'>>;

/** The rows of the stats table, in the seed's order, and where each comes from. */
const STAT_ROWS: Array<[string, (s: Counts) => number]> = [
  ['fetched', (s) => s.fetched ?? 0],
  ['created', (s) => s.created ?? 0],
  ['updated', (s) => s.updated ?? 0],
  ['unchanged', (s) => s.unchanged ?? 0],
  ['deleted upstream', (s) => s.deletedUpstream ?? 0],
  ['invalid phones', (s) => s.invalidPhones ?? 0],
  ['invalid VAT', (s) => s.invalidVat ?? 0],
  ['pushed', (s) => s.pushed ?? 0],
  ['conflicts', (s) => s.conflicts ?? 0],
  ['failed', (s) => s.failed ?? 0],
];

const PREVIEW_ROWS = 20;

async function context(config: AppConfig): Promise<INestApplicationContext> {
  @Module({ imports: [PlatformModule.forConfig(config), ...CRM_SYNC_FEATURES] })
  class RobawsCliModule {}
  const app = await NestFactory.createApplicationContext(RobawsCliModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  return app;
}

function params(opts: RobawsSyncOptions): RobawsCustomersParams {
  return {
    ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.clientId !== undefined ? { clientId: opts.clientId } : {}),
  };
}

function statsTable(stats: Counts): string {
  return textTable(
    ['stat', 'count'],
    STAT_ROWS.map(([name, of]) => [name, String(of(stats))]),
  );
}

function sum(a: Counts, b: Counts): Counts {
  const out: Counts = { ...a };
  for (const [k, v] of Object.entries(b) as Array<[keyof Counts, number]>) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** A bar on a terminal (one line rewritten), else one plain line per page. */
function progressPrinter(out: Output): {
  page: (p: { page: number; totalPages: number; stats: RunStats }) => void;
  end: () => void;
} {
  let drawn = false;
  return {
    page({ page, totalPages, stats }) {
      const total = Math.max(totalPages, page);
      if (out.isTTY) {
        const width = 30;
        const done = Math.round((page / total) * width);
        out.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] page ${page}/${total}  fetched ${stats.fetched}`);
        drawn = true;
      } else
        out.write(
          // Rows are written in batches of several pages: created/updated are known at the end, in the table.
          `page ${page}/${total}: fetched ${stats.fetched}\n`,
        );
    },
    end() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}

function tick(job: string, p: RobawsCustomersParams): SyncRequestedPayload {
  const now = new Date();
  return {
    runId: randomUUID(),
    domain: 'crm',
    job,
    companyId: 1,
    trigger: 'cli',
    scheduledFor: now.toISOString(),
    deadline: new Date(now.getTime() + 86_400_000).toISOString(),
    params: p as Record<string, unknown>,
  };
}

/** Exit code of one outcome: 0 completed, 2 failed on configuration, 1 anything else. */
function exitOf(outcome: RunOutcome): number {
  if (outcome.status === 'completed') return 0;
  if (outcome.status === 'failed') return outcome.error.origin === 'config' ? 2 : 1;
  return 1;
}

function describeEnd(name: string, outcome: RunOutcome): string | null {
  if (outcome.status === 'completed') return null;
  if (outcome.status === 'failed') {
    const e = outcome.error;
    return `${name} FAILED [${e.origin}/${e.code}${e.retriable ? ', retriable' : ''}]: ${e.message}`;
  }
  if (outcome.status === 'skipped' && outcome.reason === 'overlap')
    return `${name} not run: another Robaws customer job (pull or push) is running; try again when it ends`;
  return `${name} not run: ${outcome.status === 'skipped' ? outcome.reason : outcome.status}`;
}

/**
 * `robaws:sync-customers [--full] [--push] [--dry-run] [--limit=N] [--client-id=ID]` (seed 003's command): the Robaws
 * customer jobs now, in this process, through the run lifecycle (claim, the shared Robaws lease, run events with
 * trigger `cli`). `--push` sends local edits first, then pulls (so the pull reads what the push made). `--dry-run`
 * calls the services with `dryRun`: the first customers as they would be stored (and the patches a push would send),
 * nothing written, sent or emitted. Answers the exit code.
 */
export async function robawsSyncCustomers(config: AppConfig, opts: RobawsSyncOptions, out: Output): Promise<number> {
  const app = await context(config);
  const pullJob = opts.full ? ROBAWS_CUSTOMERS_FULL : ROBAWS_CUSTOMERS_INCREMENTAL;
  const p = params(opts);
  try {
    const progress = progressPrinter(out);
    const unobserve = app.get(CustomerPullService).observe((page) => progress.page(page));
    try {
      return opts.dryRun ? await dryRun(app, opts, out) : await realRun(app, opts, pullJob.job, p, out, progress);
    } finally {
      unobserve();
      progress.end();
    }
  } finally {
    await app.close();
  }
}

async function dryRun(app: INestApplicationContext, opts: RobawsSyncOptions, out: Output): Promise<number> {
  let stats: Counts = {};
  const problems: string[] = [];
  if (opts.push) {
    try {
      const plan = await app
        .get(CustomerPushService)
        .push({ dryRun: true, limit: opts.limit, clientId: opts.clientId });
      stats = sum(stats, plan.stats);
      out.write(
        plan.planned.length
          ? `Would push ${plan.planned.length} local edit(s):\n${textTable(
              ['robaws id', 'merge-patch'],
              plan.planned.map((x) => [String(x.robawsId), JSON.stringify(x.patch)]),
            )}`
          : 'No local edit to push\n',
      );
    } catch (err) {
      stats = sum(stats, statsOf(err));
      problems.push(
        `push FAILED [${classifyError(err).origin}/${classifyError(err).code}]: ${classifyError(err).message}`,
      );
    }
  }
  try {
    const result = await app.get(CustomerPullService).pull({
      mode: opts.full ? 'full' : 'incremental',
      dryRun: true,
      limit: opts.limit,
      clientId: opts.clientId,
    });
    stats = sum(stats, result.stats);
    const preview = result.preview.slice(0, PREVIEW_ROWS);
    out.write(
      preview.length
        ? `The first ${preview.length} customer(s) as they would be stored:\n${textTable(
            ['robaws id', 'name', 'role', 'phone', 'tel', 'gsm', 'VAT', 'VAT valid'],
            preview.map((c) => [
              c.robawsId,
              c.name ?? '',
              c.role ?? '(none)',
              c.phone ?? '',
              c.tel ?? '',
              c.gsm ?? '',
              c.vatNumber ?? '',
              c.vatValid === null ? '' : c.vatValid ? 'yes' : 'NO',
            ]),
          )}`
        : 'No customer to pull\n',
    );
  } catch (err) {
    stats = sum(stats, statsOf(err));
    const e = classifyError(err);
    problems.push(`pull FAILED [${e.origin}/${e.code}]: ${e.message}`);
    out.write(statsTable(stats));
    for (const line of problems) out.write(`${line}\n`);
    return e.origin === 'config' ? 2 : 1;
  }
  out.write(statsTable(stats));
  for (const line of problems) out.write(`${line}\n`);
  out.write('Dry run: nothing was written or sent\n');
  return problems.length ? 1 : 0;
}

async function realRun(
  app: INestApplicationContext,
  opts: RobawsSyncOptions,
  pullJob: string,
  p: RobawsCustomersParams,
  out: Output,
  progress: { end: () => void },
): Promise<number> {
  const executor = app.get(RunExecutor);
  let stats: Counts = {};
  const ends: string[] = [];
  let code = 0;
  if (opts.push) {
    const t = tick(ROBAWS_CUSTOMERS_PUSH.job, p);
    const outcome = await executor.execute(t);
    if (outcome.status === 'completed' || outcome.status === 'failed') stats = sum(stats, outcome.stats);
    const end = describeEnd(`push (run ${t.runId})`, outcome);
    if (end) ends.push(end);
    code = Math.max(code, exitOf(outcome));
  }
  const t = tick(pullJob, p);
  const outcome = await executor.execute(t);
  progress.end();
  if (outcome.status === 'completed' || outcome.status === 'failed') stats = sum(stats, outcome.stats);
  const end = describeEnd(`pull (run ${t.runId})`, outcome);
  if (end) ends.push(end);
  code = Math.max(code, exitOf(outcome));
  const what = [opts.push ? 'push, then ' : '', opts.full ? 'full pull' : 'incremental pull'].join('');
  out.write(
    `Robaws customer sync: ${what}${opts.clientId !== undefined ? ` of client ${opts.clientId}` : ''} (run ${t.runId})\n`,
  );
  out.write(statsTable(stats));
  for (const line of ends) out.write(`${line}\n`);
  return code;
}
