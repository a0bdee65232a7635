import { Module } from '@nestjs/common';
import { SchedulerClient } from './scheduler.client';
import { SchedulerProxyController } from './scheduler-proxy.controller';

/** Distributed mode only: in the embedded mode the scheduler's own routes are served by the same process. */
@Module({ controllers: [SchedulerProxyController], providers: [SchedulerClient] })
export class SchedulerProxyModule {}
