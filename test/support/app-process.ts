import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deploymentNodeFlags } from './deployment-node-flags';
import { eventually, freePort } from './wait';
import { childEnv } from './env';

const ROOT = path.resolve(__dirname, '..', '..', '..');
/** Where the apps' logs go: `test-artifacts`, or the directory the fault suite gives (TEST_ARTIFACTS, see test-faults.sh). */
export const ARTIFACTS = process.env.TEST_ARTIFACTS
  ? path.resolve(ROOT, process.env.TEST_ARTIFACTS)
  : path.join(ROOT, 'test-artifacts');
/** The secrets the tests gave the apps, one per line: the fault suite greps every log for each (scripts/grep-secrets.js). */
export const SECRETS_FILE = 'configured-secrets.txt';
/** A setting whose value is a secret: API keys, tokens, passwords, client and webhook secrets, SECRETS_KEY. */
const SECRET_SETTING = /(KEY|KEYS|SECRET|TOKEN|PASSWORD)$/;

/**
 * Records secrets a test configured (its apps' secret settings are recorded by startAppProcess; a test registers those
 * it gives by other means, a panel password posted to the API for one), so that a grep of the logs can look for them.
 */
export function registerSecrets(...values: string[]): void {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const lines = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  if (lines.length) fs.appendFileSync(path.join(ARTIFACTS, SECRETS_FILE), lines.map((v) => `${v}\n`).join(''));
}

export interface AppProcess {
  url: string;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<number | null>;
}

/**
 * Starts `node dist/apps/<app>/main.js` as its own process (the distributed mode), with the Node flags its Deployment
 * gives it, and waits until it is ready. It listens on a free port, or on `env.PORT` when a test must know the URL
 * before the process starts (a redirect URI).
 */
export async function startAppProcess(
  app: string,
  env: Record<string, string>,
  label = app,
  nodeArgs: string[] = [],
  /** `ready` (default): wait for /health/ready to answer 200; `live`: only for the process to serve /health/live. */
  waitFor: 'ready' | 'live' = 'ready',
): Promise<AppProcess> {
  registerSecrets(
    ...Object.entries(env)
      .filter(([k]) => SECRET_SETTING.test(k))
      .map(([, v]) => v),
  );
  // The test lanes run side by side: between freePort closing its probe and the app binding the port, another
  // process's outgoing connection can take it. The app then exits with EADDRINUSE and starts again on another port
  // (a port the test chose, env.PORT, is its own to keep: that failure is the test's).
  for (let attempt = 1; ; attempt++) {
    const port = env.PORT ? Number(env.PORT) : await freePort();
    try {
      return await startOnce(app, env, label, nodeArgs, waitFor, port);
    } catch (err) {
      if (!(err instanceof PortTaken) || env.PORT || attempt === 3) throw err;
    }
  }
}

/** The app exited because its port was taken (EADDRINUSE in its log). */
class PortTaken extends Error {}

async function startOnce(
  app: string,
  env: Record<string, string>,
  label: string,
  nodeArgs: string[],
  waitFor: 'ready' | 'live',
  port: number,
): Promise<AppProcess> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = path.join(ARTIFACTS, `${label}.log`);
  const log = fs.openSync(logFile, 'w');
  // The flags its Deployment gives it first (a test's own come after, and win where they repeat one).
  const flags = [...deploymentNodeFlags(app), ...nodeArgs];
  const child = spawn(process.execPath, [...flags, path.join(ROOT, 'dist', 'apps', app, 'main.js')], {
    cwd: ROOT,
    env: { ...childEnv(), NODE_ENV: 'test', LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  const outcome = await eventually(
    async () => {
      // A process that exited will not become ready: stop waiting at once (a start-up failure is often the test).
      if (exited !== null) return 'exited' as const;
      const res = await fetch(`${url}/health/${waitFor}`).catch(() => null);
      return res?.status === 200 ? ('up' as const) : undefined;
    },
    `${app} to become ${waitFor}`,
    90000,
    250,
  ).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  if (outcome === 'exited') {
    const tail = fs.readFileSync(logFile, 'utf8').slice(-3000);
    const message = `${app} exited with ${exited}; see ${logFile}:\n${tail}`;
    throw tail.includes('EADDRINUSE') ? new PortTaken(message) : new Error(message);
  }
  return {
    url,
    child,
    logFile,
    stop: () =>
      new Promise((resolve) => {
        // Stopped already (by a test, or killed by a signal): its exit event has been and gone.
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 20000).unref();
      }),
  };
}
