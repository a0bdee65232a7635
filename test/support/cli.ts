import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { childEnv } from './env';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Runs `node dist/apps/cli/main.js <args>` with only PATH and `env`, as an operator's shell would, and collects it. */
export function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'apps', 'cli', 'main.js'), ...args], {
      cwd: ROOT,
      env: { ...childEnv(), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
