import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac, hkdfSync } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { resolveSecretsKey, SecretBox, verifySecretsKey } from '@sync-hub/persistence';
import type { DataSource } from 'typeorm';
import type { Connection } from './connection.entity';

const OWNER = 'accounting-sync';

/**
 * accounting-sync's secrets at rest: connection secrets sealed with SECRETS_KEY and bound to their (company, provider),
 * and an HMAC key derived from it for the QuickBooks authorize state. At start it proves the key opens what is stored
 * (a wrong key stops the process, naming SECRETS_KEY); without SECRETS_KEY the distributed mode does not start.
 */
@Injectable()
export class ConnectionSecrets implements OnApplicationBootstrap {
  private readonly logger = new Logger(ConnectionSecrets.name);
  private readonly box: SecretBox;
  private readonly stateKey: Buffer;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    const key = resolveSecretsKey(config);
    this.box = new SecretBox(key);
    this.stateKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'sync-hub qbo oauth state', 32));
  }

  async onApplicationBootstrap(): Promise<void> {
    await verifySecretsKey(this.dataSource, this.box, OWNER);
    this.logger.log('SECRETS_KEY opens the stored connection secrets');
  }

  seal(c: Pick<Connection, 'companyId' | 'provider'>, value: object): string {
    return this.box.sealJson(value, context(c));
  }

  open<T>(c: Pick<Connection, 'companyId' | 'provider' | 'secrets'>): T {
    return this.box.openJson<T>(c.secrets, context(c));
  }

  /** HMAC-SHA256 of `text` under the state key, base64url. */
  sign(text: string): string {
    return createHmac('sha256', this.stateKey).update(text).digest('base64url');
  }
}

function context(c: Pick<Connection, 'companyId' | 'provider'>): string {
  return `connections:${c.companyId}:${c.provider}`;
}
