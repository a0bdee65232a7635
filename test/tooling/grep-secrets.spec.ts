import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const SCRIPT = path.resolve(__dirname, '..', '..', '..', 'scripts', 'grep-secrets.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { findSecrets } = require(SCRIPT) as {
  findSecrets: (dir: string) => {
    secrets: number;
    tooShort: string[];
    logs: number;
    hits: Array<{ file: string; line: number; secret: string }>;
  };
};

/** A fresh artifacts directory: the configured secrets and the given logs. */
function artifacts(secrets: string[], logs: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grep-secrets-'));
  fs.writeFileSync(path.join(dir, 'configured-secrets.txt'), secrets.map((s) => `${s}\n`).join(''));
  for (const [name, text] of Object.entries(logs)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('scripts/grep-secrets.js (the fault suite’s secrets grep, issue 14 scenario 7)', () => {
  it('finds each secret in every log, as given and URL-encoded, with its file and line', () => {
    const dir = artifacts(['sk-live-0123456789', 'p@ss word/42!'], {
      'a.log': 'started\n{"msg":"calling with sk-live-0123456789"}\n',
      'nested/b.log': 'ok\nok\nGET /login?password=p%40ss%20word%2F42!\n',
      'c.log': 'nothing here\n',
    });
    const { secrets, logs, hits } = findSecrets(dir);
    assert.equal(secrets, 2);
    assert.equal(logs, 3, 'the secrets file itself is not a log');
    assert.deepEqual(
      hits.map((h) => [path.relative(dir, h.file), h.line, h.secret]),
      [
        ['a.log', 2, 'sk-live-0123456789'],
        [path.join('nested', 'b.log'), 3, 'p@ss word/42!'],
      ],
    );
  });

  it('exits 1 naming the file and line but never printing the whole secret; 0 when the logs are clean; 2 without a directory', () => {
    const dirty = artifacts(['webhook-secret-abcdef'], { 'app.log': 'x\nsignature secret webhook-secret-abcdef\n' });
    const found = spawnSync(process.execPath, [SCRIPT, dirty], { encoding: 'utf8' });
    assert.equal(found.status, 1);
    assert.match(found.stderr, /app\.log:2 holds the secret web…\(21 chars\)/);
    assert.doesNotMatch(found.stderr + found.stdout, /webhook-secret-abcdef/);

    const clean = artifacts(['webhook-secret-abcdef', 'short'], { 'app.log': 'all fine\n' });
    const ok = spawnSync(process.execPath, [SCRIPT, clean], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /2 configured secret\(s\), none in 1 log file/);
    assert.match(ok.stderr, /sho…\(5 chars\) is shorter than 8 characters, not looked for/);

    assert.equal(spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' }).status, 2);
  });
});
