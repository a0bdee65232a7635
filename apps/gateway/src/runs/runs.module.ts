import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NotificationsModule } from '../notifications/notifications.module';
import { RunEventsController } from './run-events.controller';
import { RunHistoryService } from './run-history.service';
import { RunsController } from './runs.controller';
import { SyncRun } from './sync-run.entity';

@Module({
  imports: [TypeOrmModule.forFeature([SyncRun]), NotificationsModule],
  controllers: [RunsController, RunEventsController],
  providers: [RunHistoryService],
})
export class RunsModule {}
