import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule } from '../clock/clock.module';
import { CompaniesModule } from '../companies/companies.module';
import { SettingsModule } from '../settings/settings.module';
import { Schedule } from './schedule.entity';
import { SchedulesController } from './schedules.controller';
import { SchedulesService } from './schedules.service';

/**
 * Schedules and their API; also what the CLI's schedule:list uses (with the settings, the clock and the companies it
 * re-exports). A schedule belongs to a company that exists.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Schedule]), SettingsModule, ClockModule, CompaniesModule],
  controllers: [SchedulesController],
  providers: [SchedulesService],
  exports: [SchedulesService, SettingsModule, ClockModule, CompaniesModule, TypeOrmModule],
})
export class SchedulesModule {}
