import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule } from '../clock/clock.module';
import { SettingsModule } from '../settings/settings.module';
import { Schedule } from './schedule.entity';
import { SchedulesController } from './schedules.controller';
import { SchedulesService } from './schedules.service';

/** Schedules and their API; also what the CLI's schedule:list uses (with the settings and the clock it re-exports). */
@Module({
  imports: [TypeOrmModule.forFeature([Schedule]), SettingsModule, ClockModule],
  controllers: [SchedulesController],
  providers: [SchedulesService],
  exports: [SchedulesService, SettingsModule, ClockModule, TypeOrmModule],
})
export class SchedulesModule {}
