import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { TicksModule } from './ticks/ticks.module';

/** The feature modules of accounting-sync; the embedded host mounts the same list. */
export const ACCOUNTING_SYNC_FEATURES = [TicksModule];

@Module({ imports: [PlatformModule.forApp('accounting-sync'), ...ACCOUNTING_SYNC_FEATURES] })
export class AccountingSyncModule {}
