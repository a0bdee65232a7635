import { Module } from '@nestjs/common';
import { API_VALIDATION, ApiKeysRequired, PlatformModule } from '@sync-hub/platform';
import { LoopModule } from './loop/loop.module';
import { SchedulesModule } from './schedules/schedules.module';

/** The feature modules of the scheduler; the embedded host mounts the same list. */
export const SCHEDULER_FEATURES = [SchedulesModule, LoopModule];

@Module({
  imports: [PlatformModule.forApp('scheduler'), ...SCHEDULER_FEATURES],
  providers: [...API_VALIDATION, ApiKeysRequired],
})
export class SchedulerModule {}
