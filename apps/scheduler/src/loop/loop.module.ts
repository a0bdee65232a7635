import { Module } from '@nestjs/common';
import { ClockModule } from '../clock/clock.module';
import { CompaniesModule } from '../companies/companies.module';
import { SchedulesModule } from '../schedules/schedules.module';
import { SettingsModule } from '../settings/settings.module';
import { ClockController } from './clock.controller';
import { SchedulerLoop } from './scheduler-loop.service';

/** The minute loop and leader lease; with the manual clock, POST /__clock drives it instead of its timers. */
@Module({
  imports: [SchedulesModule, SettingsModule, ClockModule, CompaniesModule],
  controllers: [ClockController],
  providers: [SchedulerLoop],
  exports: [SchedulerLoop],
})
export class LoopModule {}
