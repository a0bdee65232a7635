import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { TicksModule } from './ticks/ticks.module';

/** The feature modules of crm-sync; the embedded host mounts the same list. */
export const CRM_SYNC_FEATURES = [TicksModule];

@Module({ imports: [PlatformModule.forApp('crm-sync'), ...CRM_SYNC_FEATURES] })
export class CrmSyncModule {}
