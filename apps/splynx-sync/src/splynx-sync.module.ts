import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { CustomersModule } from './customers/customers.module';

/** The feature modules of splynx-sync; the embedded host mounts the same list. */
export const SPLYNX_SYNC_FEATURES = [CustomersModule];

@Module({ imports: [PlatformModule.forApp('splynx-sync'), ...SPLYNX_SYNC_FEATURES] })
export class SplynxSyncModule {}
