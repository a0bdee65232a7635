import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Notification } from '../notifications/notification.entities';
import { NotificationsModule } from '../notifications/notifications.module';
import { RunEventsController } from './run-events.controller';
import { RunHistoryService } from './run-history.service';
import { RunRetentionService } from './run-retention.service';
import { RunsController } from './runs.controller';
import { SyncRun } from './sync-run.entity';

@Module({
  imports: [TypeOrmModule.forFeature([SyncRun, Notification]), NotificationsModule],
  controllers: [RunsController, RunEventsController],
  providers: [RunHistoryService, RunRetentionService],
})
export class RunsModule {}
