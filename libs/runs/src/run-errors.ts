import { ClassifiedError, RunError, RunStats } from '@sync-hub/contracts';
import { infrastructureProblem } from '@sync-hub/messaging';
import { QueryFailedError } from 'typeorm';

/** Maps any error to the classification carried by a `failed` event (DESIGN.md section 7). */
export function classifyError(err: unknown): RunError {
  if (err instanceof ClassifiedError) return err.toRunError();
  // The database or the bus could not serve (a connection lost under a query, a pool closed, a failover, a lock timeout):
  // retriable, and whichever wrapper it arrived in (TypeORM's QueryFailedError included), the same classification.
  const problem = infrastructureProblem(err);
  if (problem) {
    const bus = problem.startsWith('the bus');
    return {
      code: bus ? 'BUS_UNAVAILABLE' : 'DATABASE_UNAVAILABLE',
      message: problem,
      retriable: true,
      origin: bus ? 'internal' : 'destination',
    };
  }
  if (err instanceof QueryFailedError)
    return { code: 'DATABASE_QUERY_FAILED', message: err.message, retriable: false, origin: 'destination' };
  const e = err as { message?: string };
  return { code: 'INTERNAL_ERROR', message: e?.message ?? String(err), retriable: false, origin: 'internal' };
}

export class JobNotSupportedError extends ClassifiedError {
  readonly code = 'JOB_NOT_SUPPORTED';
  readonly origin = 'config' as const;
  readonly retriable = false;
  constructor(domain: string, job: string) {
    super(`${domain}/${job} is not implemented by this version of the ${domain} sync service`);
    this.name = 'JobNotSupportedError';
  }
}

/** A tick whose params do not fit the job's params DTO: each bad field is named. */
export class InvalidJobParamsError extends ClassifiedError {
  readonly code = 'INVALID_PARAMS';
  readonly origin = 'config' as const;
  readonly retriable = false;
  constructor(domain: string, job: string, problems: Record<string, string[]>) {
    super(
      `invalid params for ${domain}/${job}: ${Object.entries(problems)
        .map(([field, reasons]) => `${field}: ${reasons.join(', ')}`)
        .join('; ')}`,
    );
    this.name = 'InvalidJobParamsError';
  }
}

/** The run went past its declared time limit and was stopped. */
export class RunTimeLimitError extends ClassifiedError {
  readonly code = 'RUN_TIME_LIMIT';
  readonly origin = 'internal' as const;
  readonly retriable = false;
  constructor(domain: string, job: string, limitMs: number) {
    super(`${domain}/${job} ran longer than its time limit of ${Math.round(limitMs / 1000)} s and was stopped`);
    this.name = 'RunTimeLimitError';
  }
}

/**
 * The process was stopped (SIGTERM: a deploy, a scale-down) before the run ended. Retriable: its claim is handed over,
 * so another replica takes the run over at its next sweep rather than after the lease.
 */
export class RunInterruptedError extends ClassifiedError {
  readonly code = 'INTERRUPTED';
  readonly origin = 'internal' as const;
  readonly retriable = true;
  constructor(domain: string, job: string, graceMs: number) {
    super(
      `${domain}/${job} was still running ${graceMs / 1000} s after its process was asked to stop: interrupted, another replica takes it over`,
    );
    this.name = 'RunInterruptedError';
  }
}

const PARTIAL_STATS = Symbol('partialStats');

/** Lets a job that fails half-way report what it had done; the `failed` event carries these stats. */
export function attachStats<E>(err: E, stats: RunStats): E {
  if (err && typeof err === 'object') (err as Record<symbol, unknown>)[PARTIAL_STATS] = { ...stats };
  return err;
}

export function statsOf(err: unknown): RunStats {
  return (
    ((err && typeof err === 'object' && (err as Record<symbol, unknown>)[PARTIAL_STATS]) as RunStats) ?? new RunStats()
  );
}
