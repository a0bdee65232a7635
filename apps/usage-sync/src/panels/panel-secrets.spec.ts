import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { SecretDecryptionError, SecretKeyCheck } from '@sync-hub/persistence';
import type { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { Panel } from '../model/usage.entities';
import { createAdapter, panelTarget } from './adapter-factory';
import { PanelSecrets } from './panel-secrets';

function secretsWith(key: Buffer, db: DataSource): PanelSecrets {
  return new PanelSecrets(loadConfig('usage-sync', { SECRETS_KEY: key.toString('base64') }), db);
}

describe('PanelSecrets and the adapter factory', () => {
  it('seals credentials bound to the panel id: they open for that panel only, and the sealed text holds no secret', async () => {
    const db = await inMemoryDatabase([SecretKeyCheck]);
    try {
      const secrets = secretsWith(randomBytes(32), db);
      await secrets.onApplicationBootstrap();
      const sealed = secrets.seal({ id: 7 }, { username: 'admin', password: 'hunter2-panel' });
      assert.ok(!sealed.includes('hunter2-panel'));
      assert.deepEqual(secrets.open({ id: 7, credentialsSealed: sealed }), {
        username: 'admin',
        password: 'hunter2-panel',
      });
      assert.throws(() => secrets.open({ id: 8, credentialsSealed: sealed }), SecretDecryptionError);
      assert.deepEqual(secrets.open({ id: 9, credentialsSealed: null }), {}, 'a panel without credentials has none');
    } finally {
      await db.destroy();
    }
  });

  it('a start with another key than the stored one fails naming SECRETS_KEY', async () => {
    const db = await inMemoryDatabase([SecretKeyCheck]);
    try {
      await secretsWith(randomBytes(32), db).onApplicationBootstrap();
      await assert.rejects(secretsWith(randomBytes(32), db).onApplicationBootstrap(), /SECRETS_KEY is not the key/);
    } finally {
      await db.destroy();
    }
  });

  it('builds the adapter of each panel type from a stored panel, and refuses an unknown type', async () => {
    const opened = { open: () => ({ apiKey: 'k' }) };
    const panel = (type: string) =>
      Object.assign(new Panel(), {
        id: 1,
        name: 'p',
        type,
        url: 'http://127.0.0.1:1',
        credentialsSealed: 'x',
        settings: null,
      });
    for (const type of ['eylandoo', 'marzban', 'marzneshin', '3x-ui'] as const) {
      const adapter = createAdapter(panelTarget(panel(type), opened), { timeoutMs: 1000, maxConcurrency: 1 });
      assert.equal(adapter.type, type);
      await adapter.close();
    }
    assert.throws(
      () => createAdapter(panelTarget(panel('openvpn'), opened), { timeoutMs: 1000, maxConcurrency: 1 }),
      /unknown panel type "openvpn"/,
    );
  });
});
