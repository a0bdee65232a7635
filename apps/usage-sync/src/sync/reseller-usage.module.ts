import { Module } from '@nestjs/common';
import { UsagePanelsModule } from '../panels/panels.module';
import { UsageConfigSyncController } from './usage-config-sync.controller';
import { UsageSyncService } from './usage-sync.service';
import { UsageWriter } from './usage-writer';

/**
 * The usage sync (issue 13): the fan-out over the panels, the writer and its events, the panels' circuits, and the
 * diagnostic route. The job (`reseller.usage`) and the CLI's `reseller:usage:sync-one` call UsageSyncService.
 */
@Module({
  imports: [UsagePanelsModule],
  controllers: [UsageConfigSyncController],
  providers: [UsageSyncService, UsageWriter],
  exports: [UsageSyncService],
})
export class ResellerUsageModule {}
