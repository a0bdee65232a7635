import 'reflect-metadata';
import { assertValidEnvironment } from '@sync-hub/config';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { SchedulerModule } from './scheduler.module';

// The scheduler publishes ticks and consumes no topic.
Promise.resolve()
  .then(() => assertValidEnvironment('scheduler'))
  .then(() => startApp(SchedulerModule, { consumes: false }))
  .catch(exitOnStartupError);
