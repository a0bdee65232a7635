/** Where the test infrastructure is; scripts/test.sh sets these after starting the broker. */
export const TEST_KAFKA_BROKERS = process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:19092';
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

/**
 * What every process a test starts inherits, whatever else its environment holds: PATH, and the module compile cache
 * (`NODE_COMPILE_CACHE`, which scripts/run-tests.js sets), so that the apps, the CLI and the embedded host load their
 * modules from V8's cached code instead of compiling them again in every one of the suites' hundreds of starts.
 */
export function childEnv(): Record<string, string> {
  const cache = process.env.NODE_COMPILE_CACHE;
  return { PATH: process.env.PATH ?? '', ...(cache ? { NODE_COMPILE_CACHE: cache } : {}) };
}
