import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { CustomersModule } from './customers/customers.module';
import { SplynxJobsModule } from './splynx-sync.jobs';

/** The feature modules of splynx-sync; the embedded host mounts the same list. */
export const SPLYNX_SYNC_FEATURES = [CustomersModule, SplynxJobsModule];

@Module({ imports: [PlatformModule.forApp('splynx-sync'), ...SPLYNX_SYNC_FEATURES] })
export class SplynxSyncModule {}
