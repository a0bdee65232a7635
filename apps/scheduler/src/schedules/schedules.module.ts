import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SchedulerClock } from '../clock/clock';
import { Setting } from '../settings/setting.entity';
import { SettingsController } from '../settings/settings.controller';
import { SettingsService } from '../settings/settings.service';
import { Schedule } from './schedule.entity';
import { SchedulesController } from './schedules.controller';
import { SchedulesService } from './schedules.service';

/** Schedules and settings and their API; also what the CLI's schedule:list and settings:get|set use. */
@Module({
  imports: [TypeOrmModule.forFeature([Schedule, Setting])],
  controllers: [SchedulesController, SettingsController],
  providers: [SchedulerClock, SchedulesService, SettingsService],
  exports: [SchedulerClock, SchedulesService, SettingsService, TypeOrmModule],
})
export class SchedulesModule {}
