import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { declareJob } from './job-declaration';

/** The params of the Robaws customer jobs: the CLI's `--dry-run`, `--limit=N` and `--client-id=ID`. */
export class RobawsCustomersParams {
  /** Pull: read and normalise, write nothing. Push: say what would be sent, send nothing. */
  @IsOptional() @IsBoolean() dryRun?: boolean;
  /** Stop after this many customers (a limited full run marks nothing deleted upstream). */
  @IsOptional() @IsInt() @Min(1) limit?: number;
  /** Only this Robaws client (pull: fetched by id; push: that customer's local edit). */
  @IsOptional() @IsInt() @Min(1) clientId?: number;
}

function robawsJob(job: string, description: string, timeLimitMs: number) {
  return declareJob({
    domain: 'crm',
    job,
    description,
    leaseMs: 120_000,
    // A pull and a push of the same customers must not interleave: one Robaws customer job at a time.
    leaseGroup: 'robaws.customers',
    timeLimitMs,
    retries: 2,
    params: RobawsCustomersParams,
  });
}

/** seed 003: clients changed since the cursor (minus an overlap), daily 03:00. */
export const ROBAWS_CUSTOMERS_INCREMENTAL = robawsJob(
  'robaws.customers.incremental',
  'Robaws clients changed since the last pull into robaws_customers (the cursor moves with the last page)',
  3_600_000,
);
/** seed 003: every client, Sunday 04:00; customers no longer in Robaws are marked deleted_upstream. */
export const ROBAWS_CUSTOMERS_FULL = robawsJob(
  'robaws.customers.full',
  'every Robaws client into robaws_customers; those gone from Robaws are marked deleted_upstream (never deleted)',
  4 * 3_600_000,
);
/** seed 003: local edits to Robaws as merge-patches, daily 22:00; a remote change to an edited field is a conflict. */
export const ROBAWS_CUSTOMERS_PUSH = robawsJob(
  'robaws.customers.push',
  "local edits of Robaws customers to Robaws (merge-patch of the changed fields); never overwrites Robaws's newer edit",
  3_600_000,
);

/** The params of `cp.export`: the CLI's `--loop=N`. */
export class CpExportParams {
  /** Rounds at most (one request for every table each); default CP_EXPORT_MAX_LOOPS. */
  @IsOptional() @IsInt() @Min(1) @Max(10_000) loops?: number;
}

/** seed 002: the loyalty-club tables since their cursors, every 5 minutes, drained in rounds. */
export const CP_EXPORT = declareJob({
  domain: 'crm',
  job: 'cp.export',
  description:
    'loyalty-club rows inserted since each table cursor into the seven cp tables, in rounds until none has more',
  leaseMs: 120_000,
  // The export and the reconcile write the same rows: one at a time.
  leaseGroup: 'cp.tables',
  timeLimitMs: 30 * 60_000,
  retries: 1,
  params: CpExportParams,
});

/** Weekly, Sunday 05:00: every row again from id 0 (updates an id cursor cannot see); the export's cursors stay. */
export const CP_RECONCILE = declareJob({
  domain: 'crm',
  job: 'cp.reconcile',
  description:
    'every loyalty-club row again from id 0 with cursors of its own, refreshing updated rows; the export cursors stay',
  leaseMs: 120_000,
  leaseGroup: 'cp.tables',
  timeLimitMs: 4 * 3_600_000,
  retries: 1,
});

/** seed 002: the hourly "sync visit" link. */
export const CP_VISIT = declareJob({
  domain: 'crm',
  job: 'cp.visit',
  description: "calls the loyalty club's sync-visit link (CP_VISIT_URL); any 2xx is success",
  leaseMs: 60_000,
  timeLimitMs: 20 * 60_000,
  retries: 1,
});
