import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../support/wait';
import { childEnv } from '../support/env';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'apps', 'cli', 'main.js');
const EMBEDDED = path.join(ROOT, 'dist', 'apps', 'embedded', 'main.js');

const PRETTY_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR|DEBUG): /;
const RUN_FIELDS = /runId=[0-9a-f-]{36} domain=splynx job=customers$/;
/** Terminal colour codes: ESC [ … m. */
const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[`);
const ANSI_CODES = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

interface Output {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (the embedded host: until `done` sees what it waits for, then SIGTERM). */
function run(command: string, args: string[], env: Record<string, string>, done?: (out: string) => boolean) {
  return new Promise<Output>((resolve) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...childEnv(), HOME: process.env.HOME ?? os.tmpdir(), ...env },
    });
    const out: Output = { code: null, stdout: '', stderr: '' };
    const seen = () => {
      if (done?.(out.stdout + out.stderr) && child.exitCode === null) child.kill('SIGTERM');
    };
    child.stdout.on('data', (d) => ((out.stdout += d), seen()));
    child.stderr.on('data', (d) => ((out.stderr += d), seen()));
    // 'close', not 'exit': the output is whole only once the pipes are drained.
    child.on('close', (code) => resolve({ ...out, code }));
  });
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

describe('logs: readable on a terminal or with LOG_FORMAT=pretty, JSON otherwise (embedded mode, no broker)', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-hub-logs-'));
    dirs.push(dir);
    return dir;
  };
  // The CLI logs at warn by default; info shows the run line. 40 simulated customers keep a run short.
  const cliEnv = () => ({ DATA_DIR: dataDir(), LOG_LEVEL: 'info', SIMULATOR_SPLYNX_CUSTOMERS: '40' });

  after(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('the CLI with LOG_FORMAT=pretty writes readable lines to stderr, with the run fields, and only its table to stdout', async () => {
    const out = await run(process.execPath, [CLI, 'splynx:sync-users'], { ...cliEnv(), LOG_FORMAT: 'pretty' });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^Splynx customer sync\n\s+fetched\s+40\n/);
    assert.ok(!PRETTY_LINE.test(out.stdout) && !out.stdout.includes('{"level"'), 'no log line on stdout');
    const logs = lines(out.stderr);
    assert.ok(logs.length > 0, 'the CLI logged something at info');
    assert.ok(
      logs.every((l) => !l.startsWith('{')),
      `no JSON line:\n${out.stderr}`,
    );
    assert.ok(!ANSI.test(out.stderr), 'no colour when stderr is not a terminal');
    const runLine = logs.find((l) => l.includes('[RunExecutor] run completed'));
    assert.ok(runLine, `a run line in:\n${out.stderr}`);
    assert.match(runLine, PRETTY_LINE);
    assert.match(runLine, RUN_FIELDS);
  });

  it('the CLI with no LOG_FORMAT writes JSON lines to stderr when stderr is a pipe', async () => {
    const out = await run(process.execPath, [CLI, 'splynx:sync-users'], cliEnv());
    assert.equal(out.code, 0, out.stderr);
    const logs = lines(out.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
    const runLine = logs.find((l) => String(l.msg).startsWith('run completed'));
    assert.ok(runLine, `a run line in:\n${out.stderr}`);
    assert.deepEqual(
      [runLine.app, runLine.domain, runLine.job, typeof runLine.runId],
      ['cli', 'splynx', 'customers', 'string'],
    );
  });

  it('the CLI on a terminal (a pseudo-terminal through script) logs readable coloured lines by default', async () => {
    const out = await run(
      'script',
      ['-qec', `"${process.execPath}" "${CLI}" splynx:sync-users`, '/dev/null'],
      cliEnv(),
    );
    assert.equal(out.code, 0, out.stdout);
    assert.ok(ANSI.test(out.stdout), 'coloured on a terminal');
    const plain = out.stdout.replace(ANSI_CODES, '').replace(/\r/g, '');
    assert.ok(!plain.includes('{"level"'), `no JSON line:\n${plain}`);
    assert.match(
      plain,
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[RunExecutor\] run completed.*runId=[0-9a-f-]{36} domain=splynx job=customers$/m,
    );
  });

  for (const format of ['pretty', 'json'] as const) {
    it(`npm start's host with LOG_FORMAT=${format}: ${format === 'pretty' ? 'readable lines around the banner' : 'one JSON object a line'}`, async () => {
      const out = await run(
        process.execPath,
        [EMBEDDED],
        {
          DATA_DIR: dataDir(),
          PORT: String(await freePort()),
          LOG_FORMAT: format,
          SIMULATOR_SPLYNX_CUSTOMERS: '40',
          GATEWAY_API_KEYS: 'logs-e2e-key-0123456789',
        },
        // Both, in either order: the start-up run can end before main() writes the banner on a loaded machine.
        (text) => /run completed/.test(text) && /Sync hub \(embedded mode\) is running at/.test(text),
      );
      assert.match(out.stdout, /Sync hub \(embedded mode\) is running at/);
      const logs = lines(out.stdout).filter((l) => !/^(Sync hub| {2})/.test(l));
      const runLine = logs.find((l) => l.includes('run completed'));
      assert.ok(runLine, `the start-up Splynx run in:\n${out.stdout}`);
      if (format === 'pretty') {
        assert.ok(
          logs.every((l) => PRETTY_LINE.test(l)),
          `every log line is readable:\n${logs.join('\n')}`,
        );
        assert.ok(logs.some((l) => / INFO: \[NestApplication\] Nest application successfully started$/.test(l)));
        assert.match(runLine, RUN_FIELDS);
        assert.ok(!ANSI.test(out.stdout), 'no colour when stdout is not a terminal');
        assert.ok(!logs.some((l) => l.includes('[InstanceLoader]')), "Nest's wiring lines stay off the terminal");
      } else {
        const parsed = logs.map((l) => JSON.parse(l) as Record<string, unknown>);
        assert.ok(
          parsed.every((l) => typeof l.level === 'number' && typeof l.time === 'number' && l.app === 'embedded'),
        );
        assert.ok(parsed.some((l) => l.context === 'NestApplication'));
        assert.ok(
          parsed.some((l) => l.context === 'InstanceLoader'),
          'JSON keeps every line',
        );
        const runEntry = JSON.parse(runLine) as Record<string, unknown>;
        assert.deepEqual([runEntry.domain, runEntry.job], ['splynx', 'customers']);
        assert.match(String(runEntry.runId), /^[0-9a-f-]{36}$/);
      }
    });
  }
});
