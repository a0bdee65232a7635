import { Module } from '@nestjs/common';
import { SchedulerClock } from './clock';

/** The scheduler's notion of now: the system clock, or the manual one tests move through POST /__clock. */
@Module({ providers: [SchedulerClock], exports: [SchedulerClock] })
export class ClockModule {}
