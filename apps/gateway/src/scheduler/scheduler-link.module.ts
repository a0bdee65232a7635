import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SchedulerChangesController } from './scheduler-changes.controller';
import { ScheduleProjection } from './schedule-projection.entity';
import { ScheduleProjectionService } from './schedule-projection.service';
import { SchedulerClient } from './scheduler.client';
import { SettingProjection } from './setting-projection.entity';
import { SettingProjectionService } from './setting-projection.service';

/**
 * The gateway's one way to the scheduler, in both modes: reads from its projections of schedules and settings (kept
 * from scheduler.schedule.changed.v1 and scheduler.setting.changed.v1), commands through the typed HTTP client.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ScheduleProjection, SettingProjection])],
  controllers: [SchedulerChangesController],
  providers: [ScheduleProjectionService, SettingProjectionService, SchedulerClient],
  exports: [ScheduleProjectionService, SettingProjectionService, SchedulerClient],
})
export class SchedulerLinkModule {}
