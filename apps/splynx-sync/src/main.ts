import 'reflect-metadata';
import { assertValidEnvironment } from '@sync-hub/config';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { SplynxSyncModule } from './splynx-sync.module';

Promise.resolve()
  .then(() => assertValidEnvironment('splynx-sync'))
  .then(() => startApp(SplynxSyncModule))
  .catch(exitOnStartupError);
