import 'reflect-metadata';
import { assertValidEnvironment } from '@sync-hub/config';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { UsageSyncModule } from './usage-sync.module';

Promise.resolve()
  .then(() => assertValidEnvironment('usage-sync'))
  .then(() => startApp(UsageSyncModule))
  .catch(exitOnStartupError);
