import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SchedulerClient } from '../scheduler/scheduler.client';
import { NotificationChannels } from './channels';
import { Notification, NotificationState } from './notification.entities';
import { NotificationsService } from './notifications.service';

@Module({
  imports: [TypeOrmModule.forFeature([Notification, NotificationState])],
  providers: [NotificationChannels, NotificationsService, SchedulerClient],
  exports: [NotificationsService],
})
export class NotificationsModule {}
