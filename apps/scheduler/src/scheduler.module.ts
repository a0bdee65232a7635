import { Module } from '@nestjs/common';
import { PlatformModule } from '@sync-hub/platform';
import { CadenceModule } from './cadence/cadence.module';

/** The feature modules of the scheduler; the embedded host mounts the same list. */
export const SCHEDULER_FEATURES = [CadenceModule];

@Module({ imports: [PlatformModule.forApp('scheduler'), ...SCHEDULER_FEATURES] })
export class SchedulerModule {}
