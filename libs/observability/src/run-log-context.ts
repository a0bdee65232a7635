import { AsyncLocalStorage } from 'node:async_hooks';

export interface RunLogFields {
  runId: string;
  domain?: string;
  job?: string;
}

const storage = new AsyncLocalStorage<RunLogFields>();

/** Every log line written inside `fn`, from any class, carries the run's id (pino mixin below). */
export function withRunLogContext<T>(fields: RunLogFields, fn: () => Promise<T>): Promise<T> {
  return storage.run(fields, fn);
}

export function currentRunLogFields(): RunLogFields | Record<string, never> {
  return storage.getStore() ?? {};
}
