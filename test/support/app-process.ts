import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deploymentNodeFlags } from './deployment-node-flags';
import { eventually, freePort } from './wait';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

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
  const port = env.PORT ? Number(env.PORT) : await freePort();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = path.join(ARTIFACTS, `${label}.log`);
  const log = fs.openSync(logFile, 'w');
  // The flags its Deployment gives it first (a test's own come after, and win where they repeat one).
  const flags = [...deploymentNodeFlags(app), ...nodeArgs];
  const child = spawn(process.execPath, [...flags, path.join(ROOT, 'dist', 'apps', app, 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', ...env, PORT: String(port) },
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
  if (outcome === 'exited')
    throw new Error(`${app} exited with ${exited}; see ${logFile}:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
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
