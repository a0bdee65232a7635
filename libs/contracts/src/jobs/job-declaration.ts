import { ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage, ValidationError, validateSync } from 'class-validator';
import { Domain } from '../topics';

/**
 * One job a sync app can run: its entry in the job registry. The registry is the one list the gateway (manual runs),
 * the scheduler (which schedules may be enabled), the CLI (`jobs`) and the run library (lease, time limit, retries,
 * params) read; the sync app binds a handler class to it.
 */
export interface JobDeclaration<P extends object = object> {
  domain: Domain;
  job: string;
  /** One line for people: the CLI's `jobs` and the API's errors show it. */
  description: string;
  /** Overlap window: how long the job's lease lasts without renewal (renewed every third of it while the job runs). */
  leaseMs: number;
  /**
   * Jobs of a domain that touch the same records share one per-company lease under this name, so no two of them run
   * at once for a company (the accounting document jobs: a `full` and a `sales` could otherwise send one document
   * twice under different requestids). Unset: the job's own lease.
   */
  leaseGroup?: string;
  /** A run still going after this long is stopped and reported failed (RUN_TIME_LIMIT). */
  timeLimitMs: number;
  /** How often a run retries after a retriable failure (an upstream 5xx, a lost database connection), with backoff. */
  retries: number;
  /** The params it accepts, as a class-validator DTO; a job without one accepts no params. */
  params?: ClassConstructor<P>;
}

export function declareJob<P extends object>(declaration: JobDeclaration<P>): JobDeclaration<P> {
  return declaration;
}

/** The names of the params a job accepts, read from its params DTO's validation metadata. */
export function jobParamNames(declaration: JobDeclaration): string[] {
  if (!declaration.params) return [];
  const metadata = getMetadataStorage().getTargetValidationMetadatas(declaration.params, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

function flatten(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const field = `${prefix}${e.property}`;
    if (e.constraints) out[field] = Object.values(e.constraints);
    Object.assign(out, flatten(e.children ?? [], `${field}.`));
  }
  return out;
}

/**
 * Validates a tick's params against the job's DTO: `{ params }` typed, or `{ problems }` naming each bad field
 * (`params.limit: limit must not be less than 1`). Unknown fields are rejected.
 */
export function parseJobParams<P extends object>(
  declaration: JobDeclaration<P>,
  params: Record<string, unknown> | undefined,
): { params: P; problems?: undefined } | { params?: undefined; problems: Record<string, string[]> } {
  const given = params ?? {};
  if (!declaration.params) {
    const unknown = Object.keys(given);
    if (unknown.length === 0) return { params: {} as P };
    return {
      problems: Object.fromEntries(
        unknown.map((k) => [`params.${k}`, [`${declaration.domain}/${declaration.job} takes no params`]]),
      ),
    };
  }
  const instance = plainToInstance(declaration.params, given);
  const problems = flatten(
    validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false }),
    'params.',
  );
  return Object.keys(problems).length > 0 ? { problems } : { params: instance };
}
