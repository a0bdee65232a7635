#!/usr/bin/env node
// Scenario 7 of issue 14: greps every log a test run produced for every secret its tests configured, and fails on
// any hit. `node scripts/grep-secrets.js <artifacts-dir>`: the secrets are the lines of <dir>/configured-secrets.txt
// (written by test/support/app-process.ts for each app's secret settings, and by tests through registerSecrets); the
// logs are every other file under <dir>. A secret is looked for as given and URL-encoded. Exit 0: none found; 1: a
// secret was found (the file, line and the secret's first characters are printed, never the whole secret); 2: usage.
const fs = require('node:fs');
const path = require('node:path');

const SECRETS_FILE = 'configured-secrets.txt';
/** Shorter values would match ordinary words and numbers; tests give secrets at least this long. */
const MIN_LENGTH = 8;

function files(dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files(full, out);
    else if (entry.name !== SECRETS_FILE) out.push(full);
  }
  return out;
}

function mask(secret) {
  return `${secret.slice(0, 3)}…(${secret.length} chars)`;
}

/** Every hit of every secret in the logs under `dir`: { file, line, secret }. */
function findSecrets(dir) {
  const listed = path.join(dir, SECRETS_FILE);
  const secrets = fs.existsSync(listed)
    ? [
        ...new Set(
          fs
            .readFileSync(listed, 'utf8')
            .split('\n')
            .map((s) => s.trim()),
        ),
      ].filter(Boolean)
    : [];
  const tooShort = secrets.filter((s) => s.length < MIN_LENGTH);
  const needles = secrets
    .filter((s) => s.length >= MIN_LENGTH)
    .flatMap((s) => [...new Set([s, encodeURIComponent(s)])].map((form) => ({ secret: s, form })));
  const hits = [];
  const logs = files(dir);
  for (const file of logs) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, i) => {
      for (const { secret, form } of needles) if (text.includes(form)) hits.push({ file, line: i + 1, secret });
    });
  }
  return { secrets: secrets.length, tooShort, logs: logs.length, hits };
}

module.exports = { findSecrets, SECRETS_FILE, MIN_LENGTH };

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir || !fs.existsSync(dir)) {
    console.error('usage: node scripts/grep-secrets.js <artifacts-dir>');
    process.exit(2);
  }
  const { secrets, tooShort, logs, hits } = findSecrets(dir);
  for (const s of tooShort)
    console.error(`grep-secrets: ${mask(s)} is shorter than ${MIN_LENGTH} characters, not looked for`);
  for (const h of hits)
    console.error(`grep-secrets: ${path.relative(process.cwd(), h.file)}:${h.line} holds the secret ${mask(h.secret)}`);
  const lines = logs ? `${logs} log file(s)` : 'no log file';
  if (hits.length > 0) {
    console.error(`grep-secrets: ${hits.length} secret(s) found in ${lines}`);
    process.exit(1);
  }
  console.log(`grep-secrets: ${secrets} configured secret(s), none in ${lines}`);
}
