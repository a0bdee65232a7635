import { randomUUID } from 'node:crypto';
import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import { AccountingDocumentsParams, RunStats, SyncRequestedPayload } from '@sync-hub/contracts';
import { PlatformModule } from '@sync-hub/platform';
import { RunExecutor, RunOutcome } from '@sync-hub/runs';
import { Logger } from 'nestjs-pino';
import {
  ACCOUNTING_SYNC_FEATURES,
  CompanyProjectionService,
  DocumentSyncService,
  PlannedDocument,
  rangeOf,
} from '../../accounting-sync/src';
import { textTable } from './table';
import { UsageError } from './usage-error';

export const ACCOUNTING_JOBS = ['sales', 'bills', 'full'] as const;
export type AccountingJobName = (typeof ACCOUNTING_JOBS)[number];

export interface AccountingSyncOptions {
  company: number;
  job: string;
  days?: number;
  from?: string;
  to?: string;
  dryRun: boolean;
}

/** What the command did: the run's outcome (a real run) or the plan (a dry run), with the range it covered. */
export type AccountingSyncResult =
  | { kind: 'run'; range: { from: string; to: string }; runId: string; outcome: RunOutcome }
  | {
      kind: 'dry-run';
      range: { from: string; to: string };
      stats: RunStats;
      plan: PlannedDocument[];
      warnings: string[];
    };

/** The job and the range options as the job's params, or a usage error; checked before anything boots. */
export function accountingSyncParams(opts: AccountingSyncOptions): AccountingDocumentsParams {
  if (!(ACCOUNTING_JOBS as readonly string[]).includes(opts.job))
    throw new UsageError(`--job must be one of ${ACCOUNTING_JOBS.join(', ')}, not "${opts.job}"`);
  if (opts.days !== undefined && (opts.from !== undefined || opts.to !== undefined))
    throw new UsageError('--days and --from/--to exclude each other: give a number of days, or a range');
  if ((opts.from === undefined) !== (opts.to === undefined))
    throw new UsageError('--from and --to go together: give both, or neither (--days, default 30)');
  if (opts.days !== undefined) return { dateRangeDays: opts.days };
  if (opts.from !== undefined) return { from: opts.from, to: opts.to };
  return {};
}

/**
 * Why `accounting:sync` cannot work in this embedded setup, or null. As for `accounting:token` (docs/decisions.md,
 * "The accounting CLI starts no simulators"): without QBO_CLIENT_ID the QuickBooks and DevPos simulators run inside
 * `npm start` and start empty each time, so this process has neither the hub's tokens nor its documents' destination;
 * and the embedded SQLite database lives in the hub's memory, so the documents and tokens written here would be
 * overwritten by its next save. The running hub runs the same job on demand.
 */
function embeddedProblem(config: AppConfig): string | null {
  if (config.mode !== 'embedded') return null;
  const simulated = !config.accounting.quickbooks.clientId;
  if (!simulated && config.database.kind !== 'sqlite') return null;
  const why = simulated
    ? 'QuickBooks and DevPos are simulated in the embedded mode (QBO_CLIENT_ID is not set): the simulators run inside `npm start` and start empty each time, so a sync from this process would reach neither the hub’s QuickBooks nor its tokens'
    : 'the embedded mode’s SQLite database lives in the running hub’s memory: documents and tokens written here would be overwritten by its next save';
  return `${why}. Run the job in the running hub instead: "Run now" on the company's accounting schedule in the dashboard, or POST /api/schedules/<id>/run on it (\`schedule:list\` shows the ids).`;
}

async function withDocuments<T>(config: AppConfig, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  @Module({ imports: [PlatformModule.forConfig(config), ...ACCOUNTING_SYNC_FEATURES] })
  class AccountingSyncCliModule {}
  const app = await NestFactory.createApplicationContext(AccountingSyncCliModule, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/**
 * `accounting:sync --company=ID --job=sales|bills|full [--days=N | --from --to] [--dry-run]`: the company's document
 * job now, in this process. A real run goes through the run lifecycle as `splynx:sync-users` does (claim, the job's
 * per-company lease, so it never overlaps the same job running in accounting-sync, and run events with trigger `cli`).
 * `--dry-run` calls the document sync itself with `dryRun`: it reads DevPos and the stored documents, returns the plan,
 * and writes no document, party or QuickBooks entity, and emits nothing.
 */
export async function accountingSync(config: AppConfig, opts: AccountingSyncOptions): Promise<AccountingSyncResult> {
  const params = accountingSyncParams(opts);
  const problem = embeddedProblem(config);
  if (problem) throw new UsageError(problem);
  const job = opts.job as AccountingJobName;
  return withDocuments(config, async (app) => {
    const companies = app.get(CompanyProjectionService);
    if (!(await companies.find(opts.company))) {
      const known = (await companies.all()).map((c) => c.id);
      throw new UsageError(
        `company ${opts.company} not found; accounting-sync knows ${known.length ? `companies ${known.join(', ')}` : 'no company yet (the scheduler announces them on scheduler.company.changed.v1)'}`,
      );
    }
    // The range as the job computes it (bad dates are a ConfigurationError: exit 2); a real run is given it explicitly
    // so that what is printed is what ran, even across the company's midnight.
    const range = await rangeOf(companies, opts.company, params);
    if (opts.dryRun) {
      const warnings: string[] = [];
      const { stats, plan } = await app
        .get(DocumentSyncService)
        .sync(
          opts.company,
          { job, range, dryRun: true },
          { signal: new AbortController().signal, warn: (m) => warnings.push(m) },
        );
      return { kind: 'dry-run', range, stats, plan, warnings };
    }
    const now = new Date();
    const tick: SyncRequestedPayload = {
      runId: randomUUID(),
      domain: 'accounting',
      job,
      companyId: opts.company,
      trigger: 'cli',
      scheduledFor: now.toISOString(),
      deadline: new Date(now.getTime() + 86_400_000).toISOString(),
      params: { from: range.from, to: range.to },
    };
    return { kind: 'run', range, runId: tick.runId, outcome: await app.get(RunExecutor).execute(tick) };
  });
}

const STAT_ROWS = ['fetched', 'created', 'updated', 'unchanged', 'skipped', 'failed'] as const;

function statsBlock(stats: RunStats): string {
  return STAT_ROWS.map((k) => `  ${k.padEnd(12)} ${String(stats[k] ?? 0).padStart(9)}\n`).join('');
}

/** The command's output and exit code: 0 done, 1 a failed run (or not run), 2 a run that failed on configuration. */
export function printAccountingSync(
  opts: AccountingSyncOptions,
  result: AccountingSyncResult,
): { text: string; code: number } {
  const what = `${opts.job} for company ${opts.company}, ${result.range.from} … ${result.range.to}`;
  if (result.kind === 'dry-run') {
    const table = textTable(
      ['action', 'number', 'entity', 'party'],
      result.plan.map((p) => [p.action, p.number, p.entity, p.party]),
    );
    const text = [
      `Dry run of ${what}`,
      result.plan.length ? table.trimEnd() : '(no documents in the range)',
      'would change',
      statsBlock(result.stats).trimEnd(),
      ...result.warnings.map((w) => `warning: ${w}`),
      'Dry run: nothing was written',
      '',
    ].join('\n');
    return { text, code: 0 };
  }
  const { outcome } = result;
  if (outcome.status === 'completed' || outcome.status === 'failed') {
    let text = `Accounting ${what} (run ${result.runId})\n${statsBlock(outcome.stats)}`;
    if (outcome.status === 'completed') {
      for (const w of outcome.warnings ?? []) text += `warning: ${w}\n`;
      return { text, code: 0 };
    }
    const e = outcome.error;
    text += `FAILED [${e.origin}/${e.code}${e.retriable ? ', retriable' : ''}]: ${e.message}\n`;
    return { text, code: e.origin === 'config' ? 2 : 1 };
  }
  const why =
    outcome.status === 'skipped' && outcome.reason === 'overlap'
      ? `skipped: a document sync (sales, bills or full) of company ${opts.company} is running elsewhere (accounting-sync); try again when it ends`
      : outcome.status === 'skipped'
        ? `skipped: ${outcome.reason}`
        : outcome.status;
  return { text: `not run: ${why}\n`, code: 1 };
}
