import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ScheduleChangesController } from './schedule-changes.controller';
import { ScheduleProjection } from './schedule-projection.entity';
import { ScheduleProjectionService } from './schedule-projection.service';
import { SchedulerClient } from './scheduler.client';

/**
 * The gateway's one way to the scheduler, in both modes: reads from its projection of schedules (kept from
 * scheduler.schedule.changed.v1), commands through the typed HTTP client.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ScheduleProjection])],
  controllers: [ScheduleChangesController],
  providers: [ScheduleProjectionService, SchedulerClient],
  exports: [ScheduleProjectionService, SchedulerClient],
})
export class SchedulerLinkModule {}
