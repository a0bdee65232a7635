import { SetMetadata, Type } from '@nestjs/common';
import { JobDeclaration, RunStats, SyncRequestedPayload } from '@sync-hub/contracts';

/** What a job gets for one run. Its claim and lease are renewed by the executor while it runs. */
export interface JobContext<P extends object = object> {
  tick: SyncRequestedPayload;
  /** The tick's params, validated against the job's params DTO. */
  params: P;
  /**
   * Aborted when the run passes its time limit, or when its process stops and the run is still going after the grace
   * period (SHUTDOWN_GRACE_MS; another replica then takes it over from its claim): check it between pages.
   */
  signal: AbortSignal;
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
  /**
   * Something an operator should act on before it becomes a failure (a refresh token expiring soon): the run still
   * completes, its completed event carries the warnings and the gateway notifies them. Call it as often as needed;
   * a repeated message counts once. The warnings of a try that then fails are dropped with it.
   */
  warn: (message: string) => void;
}

/** A job of a sync app: a provider class bound to its registry entry with `@JobHandler(DECLARATION)`. */
export interface SyncJob<P extends object = object> {
  run(ctx: JobContext<P>): Promise<RunStats>;
}

export const JOB_DECLARATION = Symbol('JOB_DECLARATION');

/** Binds a handler class to its entry in the job registry (`libs/contracts/src/jobs`). */
export function JobHandler<P extends object>(declaration: JobDeclaration<P>): ClassDecorator {
  return SetMetadata(JOB_DECLARATION, declaration);
}

export function declarationOf(handler: Type<SyncJob>): JobDeclaration | undefined {
  return Reflect.getMetadata(JOB_DECLARATION, handler) as JobDeclaration | undefined;
}
