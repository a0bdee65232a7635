import { Module } from '@nestjs/common';
import { SchedulerLinkModule } from './scheduler-link.module';
import { CompaniesProxyController, SchedulerProxyController } from './scheduler-proxy.controller';

/** Distributed mode only: in the embedded mode the scheduler's own routes are served by the same process. */
@Module({ imports: [SchedulerLinkModule], controllers: [CompaniesProxyController, SchedulerProxyController] })
export class SchedulerProxyModule {}
