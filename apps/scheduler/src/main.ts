import 'reflect-metadata';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { SchedulerModule } from './scheduler.module';

// The scheduler publishes ticks and consumes no topic.
startApp(SchedulerModule, { consumes: false }).catch(exitOnStartupError);
