import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigValidationError, loadConfig } from '@sync-hub/config';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { SecretBox, SecretDecryptionError } from './secret-box';
import { SecretKeyCheck } from './secret-key-check.entity';
import { resolveSecretsKey } from './secrets-key';
import { verifySecretsKey } from './verify-secrets-key';

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, with a fresh IV every time (the same secret never looks the same twice)', () => {
    const a = box.seal('refresh-token-value', 'connections:1:quickbooks');
    const b = box.seal('refresh-token-value', 'connections:1:quickbooks');
    assert.notEqual(a, b);
    assert.match(a, /^v1\.[A-Za-z0-9+/]+=*$/);
    assert.ok(!a.includes('refresh-token-value'));
    assert.equal(box.open(a, 'connections:1:quickbooks'), 'refresh-token-value');
    assert.deepEqual(box.openJson(box.sealJson({ x: 1 }, 'c'), 'c'), { x: 1 });
  });

  it('refuses a value moved to another row, altered, or sealed under another key, without echoing it', () => {
    const sealed = box.seal('s3cret-value', 'connections:1:quickbooks');
    assert.throws(() => box.open(sealed, 'connections:2:quickbooks'), SecretDecryptionError);
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    assert.throws(() => box.open(`v1.${raw.toString('base64')}`, 'connections:1:quickbooks'), SecretDecryptionError);
    assert.throws(
      () => new SecretBox(randomBytes(32)).open(sealed, 'connections:1:quickbooks'),
      (err: Error) => {
        assert.ok(err instanceof SecretDecryptionError);
        assert.match(err.message, /SECRETS_KEY/);
        assert.ok(!err.message.includes('s3cret-value'));
        return true;
      },
    );
    assert.throws(() => box.open('not sealed', 'c'), SecretDecryptionError);
  });

  it('wants a 32-byte key', () => {
    assert.throws(() => new SecretBox(randomBytes(16)), /32 bytes/);
  });
});

describe('SECRETS_KEY', () => {
  it('is validated at load: 32 bytes of base64, the message naming the variable and never the value', () => {
    const bad = Buffer.from('too short').toString('base64');
    assert.throws(
      () => loadConfig('accounting-sync', { SECRETS_KEY: bad }),
      (err: Error) =>
        err instanceof ConfigValidationError &&
        /SECRETS_KEY must be 32 bytes/.test(err.message) &&
        !err.message.includes(bad),
    );
    const key = randomBytes(32);
    assert.deepEqual(loadConfig('accounting-sync', { SECRETS_KEY: key.toString('base64') }).accounting.secretsKey, key);
  });

  it('is generated once into DATA_DIR in the embedded mode (owner-only), and required in the distributed mode', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-key-'));
    try {
      const config = loadConfig('embedded', { DATA_DIR: dir });
      const first = resolveSecretsKey(config);
      assert.equal(first.length, 32);
      assert.deepEqual(resolveSecretsKey(config), first, 'the same key on the next start');
      assert.equal(fs.statSync(path.join(dir, 'secrets.key')).mode & 0o777, 0o600);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const distributed = loadConfig('accounting-sync', { KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'mysql://u@h:3306/db' });
    assert.throws(() => resolveSecretsKey(distributed), /SECRETS_KEY is required in the distributed mode/);
  });

  it('is proved at start against the stored check value: the right key passes, another fails naming SECRETS_KEY', async () => {
    const db = await inMemoryDatabase([SecretKeyCheck]);
    const key = randomBytes(32);
    await verifySecretsKey(db, new SecretBox(key), 'accounting-sync'); // first start: stores the check value
    await verifySecretsKey(db, new SecretBox(key), 'accounting-sync');
    await assert.rejects(
      verifySecretsKey(db, new SecretBox(randomBytes(32)), 'accounting-sync'),
      (err: Error) => err instanceof ConfigValidationError && /SECRETS_KEY is not the key/.test(err.message),
    );
    await verifySecretsKey(db, new SecretBox(randomBytes(32)), 'usage-sync'); // each app has its own check value
    await db.destroy();
  });
});
