import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { Browser, chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Debian's chromium; installed here when missing (playwright's own browser download cannot reach its host). */
function ensureChromium(): void {
  if (fs.existsSync(CHROMIUM)) return;
  execFileSync(
    'bash',
    [
      '-c',
      'apt-get install -y chromium >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y chromium >/dev/null)',
    ],
    { stdio: 'inherit' },
  );
}

/** A headless Debian chromium driven by playwright-core, for the dashboard tests. */
export function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
