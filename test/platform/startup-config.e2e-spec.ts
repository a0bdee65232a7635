import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { childEnv, TEST_KAFKA_BROKERS } from '../support/env';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function start(app: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'apps', app, 'main.js')], {
      cwd: ROOT,
      env: { ...childEnv(), ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('start-up configuration', () => {
  it('a bad value stops every app with exit 1 and a message naming the variable, without a stack trace', async () => {
    for (const app of ['gateway', 'scheduler', 'splynx-sync', 'accounting-sync', 'crm-sync', 'usage-sync']) {
      const { code, stderr } = await start(app, { PORT: 'eighty', HTTP_TIMEOUT_MS: '5' });
      assert.equal(code, 1, app);
      assert.match(stderr, /^Invalid configuration:/m, app);
      assert.match(stderr, /- PORT must .*integer/, app);
      assert.match(stderr, /- HTTP_TIMEOUT_MS must not be less than 100/, app);
      assert.doesNotMatch(stderr, /\bat \w+ \(/, `${app}: no stack trace`);
    }
  });

  it('the distributed gateway will not start without GATEWAY_API_KEYS', async () => {
    const { code, stderr } = await start('gateway', {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: 'mysql://root@127.0.0.1:3306/mysql',
    });
    assert.equal(code, 1);
    assert.match(stderr, /GATEWAY_API_KEYS is required/);
  });
});
