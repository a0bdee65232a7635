import 'reflect-metadata';
import { assertValidEnvironment } from '@sync-hub/config';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { AccountingSyncModule } from './accounting-sync.module';

Promise.resolve()
  .then(() => assertValidEnvironment('accounting-sync'))
  .then(() => startApp(AccountingSyncModule))
  .catch(exitOnStartupError);
