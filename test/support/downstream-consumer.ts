import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ARTIFACTS } from './app-process';
import { childEnv } from './env';
import { eventually } from './wait';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The copy examples/downstream-consumer keeps (its README). */
export interface ConsumerCopy {
  customers: Record<string, Record<string, unknown>>;
  versions: Record<string, { runId: string; occurredAt: string; changeType: string }>;
  applied: number;
  rejected: number;
}

/**
 * examples/downstream-consumer as a process of its own, run as its README says (`node consumer.js`), in a consumer
 * group of its own, writing its copy to a file of the artifacts directory. It reads the committed AsyncAPI document.
 */
export class DownstreamConsumer {
  private constructor(
    readonly child: ChildProcess,
    readonly out: string,
    readonly logFile: string,
  ) {}

  static start(brokers: string, group: string): DownstreamConsumer {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const out = path.join(ARTIFACTS, `${group}.json`);
    fs.rmSync(out, { force: true });
    const logFile = path.join(ARTIFACTS, `${group}.log`);
    const log = fs.openSync(logFile, 'w');
    const child = spawn(process.execPath, [path.join(ROOT, 'examples', 'downstream-consumer', 'consumer.js')], {
      cwd: path.join(ROOT, 'examples', 'downstream-consumer'),
      env: { ...childEnv(), KAFKA_BROKERS: brokers, GROUP_ID: group, OUT: out },
      stdio: ['ignore', log, log],
    });
    return new DownstreamConsumer(child, out, logFile);
  }

  /** Its copy as last written, or an empty one before its first batch. */
  copy(): ConsumerCopy {
    try {
      return JSON.parse(fs.readFileSync(this.out, 'utf8')) as ConsumerCopy;
    } catch {
      return { customers: {}, versions: {}, applied: 0, rejected: 0 };
    }
  }

  log(): string {
    return fs.readFileSync(this.logFile, 'utf8');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** A `splynx_customers` row as the change events' record shape (SplynxCustomerRecord), read with plain mysql2 rows. */
export function splynxRecordOfRow(row: Record<string, any>): Record<string, unknown> {
  const date = (d: unknown) => (d instanceof Date ? d.toISOString().slice(0, 10) : (d as string | null));
  return {
    splynxId: Number(row.splynx_id),
    login: row.login,
    name: row.name,
    email: row.email,
    phone: row.phone,
    status: row.status,
    category: row.category,
    billingType: row.billing_type,
    partnerId: row.partner_id === null ? null : Number(row.partner_id),
    locationId: row.location_id === null ? null : Number(row.location_id),
    dateAdd: date(row.date_add),
    lastUpdate: row.last_update instanceof Date ? row.last_update.toISOString() : row.last_update,
    active: Number(row.active) === 1,
  };
}

/**
 * What of the consumer's copy differs from the database, for the customers the given runs wrote last: every stored
 * customer must be in the copy, written by one of `runs`, with the stored record; and no customer of those runs may be
 * in the copy without being stored. Customers other suites' runs left on a shared broker are not this test's.
 */
export function copyDifferences(
  copy: ConsumerCopy,
  rows: Array<Record<string, any>>,
  runs: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  const stored = new Map(rows.map((r) => [String(r.splynx_id), splynxRecordOfRow(r)]));
  for (const [id, record] of stored) {
    const version = copy.versions[id];
    if (!version || !runs.has(version.runId)) problems.push(`${id}: not in the copy from these runs`);
    else if (JSON.stringify(copy.customers[id]) !== JSON.stringify(record))
      problems.push(`${id}: copy ${JSON.stringify(copy.customers[id])} != stored ${JSON.stringify(record)}`);
  }
  for (const [id, version] of Object.entries(copy.versions)) {
    if (runs.has(version.runId) && !stored.has(id)) problems.push(`${id}: in the copy, not stored`);
  }
  return problems;
}

/**
 * Waits until the consumer's copy equals the stored rows for the given runs (`copyDifferences`), and fails naming the
 * first differences if it does not within `timeoutMs`; then requires that it rejected no message.
 */
export async function waitForCopy(
  consumer: DownstreamConsumer,
  rows: Array<Record<string, any>>,
  runs: ReadonlySet<string>,
  timeoutMs: number,
): Promise<void> {
  let problems: string[] = [];
  await eventually(
    async () => {
      problems = copyDifferences(consumer.copy(), rows, runs);
      return problems.length === 0 ? true : undefined;
    },
    'the consumer copy to equal the database',
    timeoutMs,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${problems.slice(0, 5).join('; ')} (${problems.length} in all)`);
  });
  if (consumer.copy().rejected !== 0) throw new Error(`the consumer rejected messages: ${consumer.log()}`);
}
