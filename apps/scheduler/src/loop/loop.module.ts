import { Module } from '@nestjs/common';
import { ClockController } from '../clock/clock.controller';
import { SchedulesModule } from '../schedules/schedules.module';
import { SchedulerLoop } from './scheduler-loop.service';

@Module({
  imports: [SchedulesModule],
  controllers: [ClockController],
  providers: [SchedulerLoop],
  exports: [SchedulerLoop],
})
export class LoopModule {}
