import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { resolveSecretsKey, SecretBox, verifySecretsKey } from '@sync-hub/persistence';
import type { DataSource } from 'typeorm';
import type { Panel, PanelCredentials } from '../model/usage.entities';

const OWNER = 'usage-sync';

/**
 * usage-sync's secrets at rest: a panel's credentials (PanelCredentials as JSON) sealed with SECRETS_KEY, as the
 * accounting connections are, and bound to the panel's id, so a sealed value copied into another panel's row does not
 * open there. At start it proves the key opens what is stored (a wrong key stops the process, naming SECRETS_KEY).
 */
@Injectable()
export class PanelSecrets implements OnApplicationBootstrap {
  private readonly logger = new Logger(PanelSecrets.name);
  private readonly box: SecretBox;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.box = new SecretBox(resolveSecretsKey(config));
  }

  async onApplicationBootstrap(): Promise<void> {
    await verifySecretsKey(this.dataSource, this.box, OWNER);
    this.logger.log('SECRETS_KEY opens the stored panel credentials');
  }

  seal(panel: Pick<Panel, 'id'>, credentials: PanelCredentials): string {
    return this.box.sealJson(credentials, context(panel));
  }

  /** The panel's credentials; a panel stored without any has none (`{}`). */
  open(panel: Pick<Panel, 'id' | 'credentialsSealed'>): PanelCredentials {
    return panel.credentialsSealed ? this.box.openJson<PanelCredentials>(panel.credentialsSealed, context(panel)) : {};
  }
}

function context(panel: Pick<Panel, 'id'>): string {
  return `panels:${panel.id}`;
}
