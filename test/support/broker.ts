import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const run = promisify(execFile);

/**
 * The fault suite's broker outages: `scripts/kafka.sh pause` kills the broker on KAFKA_PORT (test-faults.sh exports
 * it) and keeps its data; `resume` starts it again on that data. Only for `npm run test:faults`, whose broker is its
 * own: the e2e suites share theirs.
 */
export async function pauseBroker(): Promise<void> {
  await kafka('pause');
}

export async function resumeBroker(): Promise<void> {
  await kafka('resume');
}

async function kafka(command: 'pause' | 'resume'): Promise<void> {
  if (!process.env.KAFKA_PORT)
    throw new Error('KAFKA_PORT is not set: the broker tests run through npm run test:faults');
  await run('bash', [path.join(ROOT, 'scripts', 'kafka.sh'), command], { cwd: ROOT, env: process.env });
}
