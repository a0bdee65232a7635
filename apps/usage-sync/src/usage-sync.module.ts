import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { TicksModule } from './ticks/ticks.module';

/** The feature modules of usage-sync; the embedded host mounts the same list. */
export const USAGE_SYNC_FEATURES = [TicksModule];

@Module({ imports: [PlatformModule.forApp('usage-sync'), ...USAGE_SYNC_FEATURES] })
export class UsageSyncModule {}
