import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SchedulerLinkModule } from '../scheduler/scheduler-link.module';
import { NotificationChannels } from './channels';
import { Notification, NotificationState } from './notification.entities';
import { NotificationsService } from './notifications.service';

@Module({
  imports: [TypeOrmModule.forFeature([Notification, NotificationState]), SchedulerLinkModule],
  providers: [NotificationChannels, NotificationsService],
  exports: [NotificationsService],
})
export class NotificationsModule {}
