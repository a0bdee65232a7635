import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { USAGE_ENTITIES } from '../model/usage.entities';
import { PanelSecrets } from './panel-secrets';

/**
 * The usage tables and the panel credentials' seal, shared by the management API, the job and the diagnostic. Its
 * PanelSecrets proves SECRETS_KEY at start, so an app that mounts it needs SECRETS_KEY in the distributed mode.
 */
@Module({
  imports: [TypeOrmModule.forFeature(USAGE_ENTITIES)],
  providers: [PanelSecrets],
  exports: [TypeOrmModule, PanelSecrets],
})
export class UsagePanelsModule {}
