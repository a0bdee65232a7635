import { QueryFailedError } from 'typeorm';

export function isDuplicateKeyError(err: unknown): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driver = (err as QueryFailedError & { driverError?: { code?: string; message?: string } }).driverError;
  return driver?.code === 'ER_DUP_ENTRY' || /UNIQUE constraint failed/i.test(driver?.message ?? err.message);
}
