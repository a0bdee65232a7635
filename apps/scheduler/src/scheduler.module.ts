import { Module } from '@nestjs/common';
import { API_VALIDATION, ApiKeysRequired, PlatformModule } from '@sync-hub/platform';
import { ClockModule } from './clock/clock.module';
import { CompaniesModule } from './companies/companies.module';
import { LoopModule } from './loop/loop.module';
import { SchedulesModule } from './schedules/schedules.module';
import { SettingsModule } from './settings/settings.module';

/** The feature modules of the scheduler; the embedded host mounts the same list. */
export const SCHEDULER_FEATURES = [ClockModule, CompaniesModule, SettingsModule, SchedulesModule, LoopModule];

@Module({
  imports: [PlatformModule.forApp('scheduler'), ...SCHEDULER_FEATURES],
  providers: [...API_VALIDATION, ApiKeysRequired],
})
export class SchedulerModule {}
