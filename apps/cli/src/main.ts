import 'reflect-metadata';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ConsoleLogger, Logger, LogLevel } from '@nestjs/common';
import { AppConfig, ConfigValidationError, loadConfig } from '@sync-hub/config';
import { createMigrationDataSource } from '@sync-hub/persistence';
import { provisionTopics } from '@sync-hub/messaging';
import { RunOutcome } from '@sync-hub/runs';
import { startEmbeddedUpstreams } from '@sync-hub/simulators';
import { ConfigurationError } from '@sync-hub/contracts';
import { accountingCompanies, accountingConnect, accountingToken } from './accounting.commands';
import {
  accountingSync,
  accountingSyncParams,
  AccountingSyncOptions,
  printAccountingSync,
} from './accounting-sync.command';
import { robawsSyncCustomers, RobawsSyncOptions } from './robaws-sync-customers.command';
import { cpSync, cpSyncNeedsExport, cpSyncPlan, CpSyncOptions } from './cp-sync.command';
import { printRunDue, scheduleRunDue } from './schedule-run-due.command';
import { scheduleList, settingsGet, settingsSet } from './scheduler.commands';
import { jobsTable } from './jobs.command';
import { splynxSyncUsers } from './splynx-sync-users.command';
import { UsageError } from './usage-error';
import { usageSyncOne } from './usage-sync-one.command';
import { dlqId, dlqList, dlqReplay } from './dlq.commands';
import { robawsWebhooksDelete, robawsWebhooksList, robawsWebhooksRegister } from './robaws-webhooks.commands';

/** Exit codes: 0 success, 1 a failed sync (or operation), 2 a usage or configuration error. */
const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

function days(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 366)
    throw new InvalidArgumentError('must be a whole number of days, 0 to 366');
  return Number(value);
}

/** A calendar date as YYYY-MM-DD that exists (2026-02-30 does not). */
function isoDate(value: string): string {
  const d = new Date(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value)
    throw new InvalidArgumentError('must be a date, YYYY-MM-DD');
  return value;
}

function printOutcome(outcome: RunOutcome, dryRun: boolean): number {
  if (outcome.status === 'completed' || outcome.status === 'failed') {
    const s = outcome.stats;
    const rows: Array<[string, number]> = [
      ['fetched', s.fetched],
      ['created', s.created],
      ['updated', s.updated],
      ['unchanged', s.unchanged],
      ['deactivated', s.deactivated ?? 0],
      ['failed', s.failed],
    ];
    process.stdout.write(`${dryRun ? 'Dry run (nothing written): would change' : 'Splynx customer sync'}\n`);
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(12)} ${String(v).padStart(9)}\n`);
  }
  if (outcome.status === 'failed') {
    const e = outcome.error;
    process.stdout.write(`FAILED [${e.origin}/${e.code}${e.retriable ? ', retriable' : ''}]: ${e.message}\n`);
    return EXIT.failed;
  }
  if (outcome.status === 'duplicate' || outcome.status === 'skipped') {
    process.stdout.write(`not run: ${outcome.status}\n`);
    return EXIT.failed;
  }
  return EXIT.ok;
}

/** The embedded mode without a configured Splynx: the CLI syncs from the simulator, as `npm start` does. */
async function withUpstreams<T>(config: AppConfig, fn: (config: AppConfig) => Promise<T>): Promise<T> {
  if (config.mode !== 'embedded' || config.splynx.baseUrl) return fn(config);
  const upstreams = await startEmbeddedUpstreams({
    splynxUrlConfigured: false,
    splynxCustomers: config.simulator.splynxCustomers,
  });
  try {
    return await fn(loadConfig('cli', { LOG_LEVEL: 'warn', ...process.env, ...upstreams.env }));
  } finally {
    await upstreams.stop();
  }
}

/** The embedded mode without a configured Robaws: the CLI pulls from the simulator, as `npm start` does. */
async function withRobaws<T>(config: AppConfig, fn: (config: AppConfig) => Promise<T>): Promise<T> {
  if (config.mode !== 'embedded' || config.crm.robaws.baseUrl) return fn(config);
  const upstreams = await startEmbeddedUpstreams({
    splynxUrlConfigured: true,
    splynxCustomers: 0,
    robawsConfigured: false,
  });
  try {
    return await fn(loadConfig('cli', { LOG_LEVEL: 'warn', ...process.env, ...upstreams.env }));
  } finally {
    await upstreams.stop();
  }
}

/** The embedded mode without a configured loyalty-club export: the CLI reads the simulator, as `npm start` does. */
async function withCp<T>(config: AppConfig, fn: (config: AppConfig) => Promise<T>): Promise<T> {
  if (config.mode !== 'embedded' || config.crm.cp.exportUrl) return fn(config);
  const upstreams = await startEmbeddedUpstreams({
    splynxUrlConfigured: true,
    splynxCustomers: 0,
    cpExportConfigured: false,
  });
  try {
    return await fn(loadConfig('cli', { LOG_LEVEL: 'warn', ...process.env, ...upstreams.env }));
  } finally {
    await upstreams.stop();
  }
}

function loops(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000)
    throw new InvalidArgumentError('must be a whole number of rounds, 1 to 10000');
  return Number(value);
}

/** Nest's default logger, on stderr for every level: a command's stdout is its output, which scripts read. */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _stream?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack, params);
  }
}

async function main(argv: string[]): Promise<number> {
  // Log lines from outside a Nest context (kafkajs's, through the app logger's kafkaLogCreator) go to stderr too.
  Logger.overrideLogger(new StderrLogger());
  const config = (): AppConfig => loadConfig('cli', { LOG_LEVEL: 'warn', ...process.env });
  let code: number = EXIT.ok;
  const program = new Command('sync-hub')
    .description('Sync hub command line (npm run cli -- <command>)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('migrate')
    .description('run the database migrations on DATABASE_URL')
    .action(async () => {
      const ds = createMigrationDataSource(config().database);
      await ds.initialize();
      try {
        const ran = await ds.runMigrations({ transaction: 'each' });
        process.stdout.write(ran.length ? `applied: ${ran.map((m) => m.name).join(', ')}\n` : 'schema is up to date\n');
      } finally {
        await ds.destroy();
      }
    });

  program
    .command('topics:create')
    .description('create the Kafka topics (and their .dlq topics) on KAFKA_BROKERS')
    .action(async () => {
      const c = config();
      if (!c.kafka) throw new ConfigValidationError(['KAFKA_BROKERS is required for topics:create']);
      const created = await provisionTopics(c.kafka);
      process.stdout.write(created.length ? `created: ${created.join(', ')}\n` : 'all topics exist\n');
    });

  program
    .command('jobs')
    .description('list the registered jobs: lease, time limit, retries and the params each accepts')
    .action(() => void process.stdout.write(jobsTable()));

  program
    .command('splynx:sync-users')
    // seed 000's artisan name, kept so operators' scripts keep working
    .alias('sync:splynx-users')
    .description(
      'sync Splynx customers into splynx_customers now, in this process: those changed since the watermark, or --full',
    )
    .option('--full', 'read every customer; mark those gone from Splynx inactive', false)
    .option('--dry-run', 'fetch and report what would change; write nothing', false)
    .option('--limit <n>', 'stop after n customers (never deactivates anything, moves no watermark)', positiveInt)
    .action(async (opts: { dryRun: boolean; limit?: number; full: boolean }) => {
      const kafka = config().kafka;
      if (kafka && !opts.dryRun) await provisionTopics(kafka); // its run events must have somewhere to go
      const outcome = await withUpstreams(config(), (c) => splynxSyncUsers(c, opts));
      code = printOutcome(outcome, opts.dryRun);
    });

  program
    .command('robaws:sync-customers')
    .description('sync Robaws customers now, in this process: incremental pull (default) or --full, --push first')
    .option('--full', 'read every client; mark those gone from Robaws deleted_upstream', false)
    .option('--push', 'send local edits to Robaws first (merge-patch), then pull', false)
    .option('--dry-run', 'print the first customers as they would be stored (and the patches); write nothing', false)
    .option('--limit <n>', 'at most n customers (a limited run moves no cursor and marks nothing deleted)', positiveInt)
    .option('--client-id <id>', 'only this Robaws client', positiveInt)
    .action(async (opts: RobawsSyncOptions) => {
      const kafka = config().kafka;
      if (kafka && !opts.dryRun) await provisionTopics(kafka); // its run events must have somewhere to go
      code = await withRobaws(config(), (c) =>
        robawsSyncCustomers(c, opts, {
          write: (text) => void process.stdout.write(text),
          isTTY: process.stdout.isTTY === true,
        }),
      );
    });

  program
    .command('cp:sync')
    .description('the loyalty-club export now, in this process: one round (or --loop=N), --test, --state, --reset')
    .option('--test', 'one request with limit 1: reachable, authorised, latency, and what to fix', false)
    .option('--state', 'each table: destination, last inserted id, last synced at, rows stored', false)
    .option('--loop <n>', 'up to n rounds (one request for every table each), until no table has more', loops)
    .option('--reset', 'export cursors back to 0 (all, or --table), then stop unless --loop is given', false)
    .option('--table <name>', 'with --reset: only this table (client, history, partner, ...)')
    .action(async (opts: CpSyncOptions) => {
      const plan = cpSyncPlan(opts); // usage errors before anything connects
      const kafka = config().kafka;
      const runs = plan.kind === 'sync' && plan.loops !== null;
      if (kafka && runs) await provisionTopics(kafka); // its run events must have somewhere to go
      const out = { write: (text: string) => void process.stdout.write(text), isTTY: process.stdout.isTTY === true };
      code = cpSyncNeedsExport(plan)
        ? await withCp(config(), (c) => cpSync(c, plan, out))
        : await cpSync(config(), plan, out);
    });

  program
    .command('schedule:list')
    .description('list every schedule with its next run')
    .action(async () => void process.stdout.write(await scheduleList(config())));

  program
    .command('schedule:run-due')
    .description("tick every due schedule now, once, as the scheduler's loop would (none while a scheduler leads)")
    .action(async () => {
      const kafka = config().kafka;
      if (kafka) await provisionTopics(kafka); // the ticks must have somewhere to go
      process.stdout.write(printRunDue(await scheduleRunDue(config())));
    });

  program
    .command('settings:get')
    .description('show a setting and the value in effect')
    .argument('<key>')
    .action(async (key: string) => void process.stdout.write(await settingsGet(config(), key)));

  program
    .command('settings:set')
    .description('change a setting; it applies from the next minute, without a restart')
    .argument('<key>')
    .argument('<value>')
    .action(async (key: string, value: string) => void process.stdout.write(await settingsSet(config(), key, value)));

  program
    .command('accounting:companies')
    .description("every company accounting-sync knows, with each connection's status and token expiries")
    .action(async () => void process.stdout.write(await accountingCompanies(config())));

  program
    .command('accounting:connect')
    .description("print Intuit's authorize URL for connecting a company's QuickBooks (one use, 15 minutes)")
    .requiredOption('--company <id>', 'the company id', positiveInt)
    .action(
      async (opts: { company: number }) => void process.stdout.write(await accountingConnect(config(), opts.company)),
    );

  program
    .command('accounting:token')
    .description("show the QuickBooks token's realm and expiries, refreshing it when due (never prints the token)")
    .requiredOption('--company <id>', 'the company id', positiveInt)
    .option('--force-refresh', 'refresh now, whatever the expiry', false)
    .action(
      async (opts: { company: number; forceRefresh: boolean }) =>
        void process.stdout.write(await accountingToken(config(), opts.company, opts.forceRefresh)),
    );

  program
    .command('accounting:sync')
    .description("run a company's DevPos → QuickBooks document sync now, in this process")
    .requiredOption('--company <id>', 'the company id', positiveInt)
    .requiredOption('--job <job>', 'sales, bills or full')
    .option('--days <n>', "today − n … today in the company's zone (default 30)", days)
    .option('--from <date>', 'first date of the range (YYYY-MM-DD, with --to)', isoDate)
    .option('--to <date>', 'last date of the range (YYYY-MM-DD, with --from)', isoDate)
    .option('--dry-run', 'read DevPos and print what would be created, updated or skipped; write nothing', false)
    .action(async (opts: AccountingSyncOptions) => {
      accountingSyncParams(opts); // usage errors before anything connects
      const kafka = config().kafka;
      if (kafka && !opts.dryRun) await provisionTopics(kafka); // its run events must have somewhere to go
      const out = printAccountingSync(opts, await accountingSync(config(), opts));
      process.stdout.write(out.text);
      code = out.code;
    });

  program
    .command('reseller:usage:sync-one')
    .description(
      "seed 004's diagnostic: read one reseller config's usage from its panel now and store it, step by step",
    )
    .requiredOption('--config <id>', 'the reseller config id', positiveInt)
    .action(async (opts: { config: number }) => {
      const kafka = config().kafka;
      if (kafka) await provisionTopics(kafka); // its usage events must have somewhere to go
      code = await usageSyncOne(config(), opts.config, {
        write: (text) => void process.stdout.write(text),
        isTTY: process.stdout.isTTY === true,
      });
    });

  // Robaws webhooks (issue 11)
  program
    .command('robaws:webhooks:register')
    .description(
      'register this hub for Robaws client.created / client.updated webhooks; the secret is stored encrypted',
    )
    .requiredOption('--url <url>', "the gateway's public URL of POST /api/webhooks/robaws/customers")
    .action(
      async (opts: { url: string }) => void process.stdout.write(await robawsWebhooksRegister(config(), opts.url)),
    );

  program
    .command('robaws:webhooks:list')
    .description("Robaws's webhook endpoints, marking those whose secret is stored here")
    .action(async () => void process.stdout.write(await robawsWebhooksList(config())));

  program
    .command('robaws:webhooks:delete')
    .description('delete a Robaws webhook endpoint and its stored secret')
    .requiredOption('--id <id>', 'the endpoint id (robaws:webhooks:list)')
    .action(async (opts: { id: string }) => void process.stdout.write(await robawsWebhooksDelete(config(), opts.id)));

  // Dead letters (issue 14)
  program
    .command('dlq:list')
    .description('the messages dead-lettered from a topic (on <topic>.dlq): id, time, key, attempts, replayed, error')
    .argument('<topic>', 'the topic, or its .dlq')
    .action(async (topic: string) => void process.stdout.write(await dlqList(config().kafka, topic)));

  program
    .command('dlq:replay')
    .description('republish dead letters to their topic byte for byte (all not replayed yet, or --id); once each')
    .argument('<topic>', 'the topic, or its .dlq')
    .option('--id <id>', 'only this message: <partition>:<offset> as dlq:list shows it', dlqId)
    .action(async (topic: string, opts: { id?: string }) => {
      process.stdout.write((await dlqReplay(config().kafka, topic, opts.id)).text);
    });

  try {
    await program.parseAsync(argv);
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT.usage;
    }
    // Something an operator must change or do (an unknown company, QuickBooks not connected or to be reconnected).
    if (err instanceof UsageError || err instanceof ConfigurationError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    if ((err as { status?: number }).status === 404) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}

void main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(EXIT.failed);
  },
);
