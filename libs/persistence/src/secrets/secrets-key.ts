import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppConfig, ConfigValidationError } from '@sync-hub/config';

export const SECRETS_KEY_FILE = 'secrets.key';

/**
 * The key secrets are sealed with: SECRETS_KEY when set. Without it, the embedded mode keeps a generated key in
 * DATA_DIR/secrets.key (created once, readable by the owner only) so `npm start` needs no setup; the distributed mode
 * refuses to start, because replicas must share one key that nothing generates.
 */
export function resolveSecretsKey(config: AppConfig): Buffer {
  if (config.accounting.secretsKey) return config.accounting.secretsKey;
  if (config.mode !== 'embedded')
    throw new ConfigValidationError([
      'SECRETS_KEY is required in the distributed mode: 32 bytes, base64 (openssl rand -base64 32), the same for every app and replica',
    ]);
  const file = path.join(config.dataDir, SECRETS_KEY_FILE);
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32)
    throw new ConfigValidationError([
      `${file} does not hold a 32-byte base64 key; set SECRETS_KEY or restore the file`,
    ]);
  return key;
}
