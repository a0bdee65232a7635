/** What hosts (apps/embedded, apps/cli, bench, tests) may use of the scheduler. */
export { SCHEDULER_FEATURES, SchedulerModule } from './scheduler.module';
export { SchedulesModule } from './schedules/schedules.module';
export { SchedulesService } from './schedules/schedules.service';
export { SettingsService } from './settings/settings.service';
