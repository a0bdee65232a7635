import { ConfigValidationError } from '@sync-hub/config';
import type { DataSource } from 'typeorm';
import { SecretBox, SecretDecryptionError } from './secret-box';
import { SecretKeyCheck } from './secret-key-check.entity';

const KNOWN = 'sync-hub secrets key check';

/**
 * Proves `box` holds the key `owner`'s stored secrets were sealed with: opens the owner's check value, or stores one
 * when there is none yet (the first start). A wrong key is a ConfigValidationError naming SECRETS_KEY, never its value.
 */
export async function verifySecretsKey(dataSource: DataSource, box: SecretBox, owner: string): Promise<void> {
  const repo = dataSource.getRepository(SecretKeyCheck);
  let row = await repo.findOneBy({ owner });
  if (!row) {
    await repo
      .createQueryBuilder()
      .insert()
      .values({ owner, sealed: box.seal(KNOWN, `secret_key_checks:${owner}`), createdAt: new Date() })
      .orIgnore()
      .execute();
    row = await repo.findOneByOrFail({ owner });
  }
  try {
    if (box.open(row.sealed, `secret_key_checks:${owner}`) === KNOWN) return;
  } catch (err) {
    if (!(err instanceof SecretDecryptionError)) throw err;
  }
  throw new ConfigValidationError([
    `SECRETS_KEY is not the key the secrets stored in this database were encrypted with (${owner}); start with the original key`,
  ]);
}
