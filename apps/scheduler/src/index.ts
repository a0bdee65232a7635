/** What hosts (apps/embedded, apps/cli, bench, tests) may use of the scheduler. */
export { SCHEDULER_FEATURES, SchedulerModule } from './scheduler.module';
export { SchedulesModule } from './schedules/schedules.module';
export { SchedulesService } from './schedules/schedules.service';
export { SettingsService } from './settings/settings.service';
export { CompaniesModule } from './companies/companies.module';
export { CompaniesService, CompanyNotFoundError } from './companies/companies.service';
export { SchedulerLoop } from './loop/scheduler-loop.service';
export { dueIdsSql } from './loop/due-query';
export { SchedulerClock } from './clock/clock';
export { Schedule } from './schedules/schedule.entity';
export { Setting } from './settings/setting.entity';
export { Company } from './companies/company.entity';
