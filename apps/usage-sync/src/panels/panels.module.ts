import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretKeyCheck } from '@sync-hub/persistence';
import { USAGE_ENTITIES } from '../model/usage.entities';
import { PanelCircuits } from '../sync/panel-circuits';
import { PanelSecrets } from './panel-secrets';

/**
 * The usage tables and the panel credentials' seal, shared by the management API, the job and the diagnostic. Its
 * PanelSecrets proves SECRETS_KEY at start against secret_key_checks (hence SecretKeyCheck here: usage-sync has no
 * other module that registers it), so an app that mounts it needs SECRETS_KEY in the distributed mode.
 */
@Module({
  imports: [TypeOrmModule.forFeature([...USAGE_ENTITIES, SecretKeyCheck])],
  // PanelCircuits: one per process, the job's reads break them and the panels API shows them.
  providers: [PanelSecrets, PanelCircuits],
  exports: [TypeOrmModule, PanelSecrets, PanelCircuits],
})
export class UsagePanelsModule {}
