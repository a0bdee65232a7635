import { Module } from '@nestjs/common';
import { SchedulerLinkModule } from '../scheduler/scheduler-link.module';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';

@Module({ imports: [SchedulerLinkModule], controllers: [StatusController], providers: [StatusService] })
export class StatusModule {}
