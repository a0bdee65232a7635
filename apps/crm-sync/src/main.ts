import 'reflect-metadata';
import { assertValidEnvironment } from '@sync-hub/config';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { CrmSyncModule } from './crm-sync.module';

Promise.resolve()
  .then(() => assertValidEnvironment('crm-sync'))
  .then(() => startApp(CrmSyncModule))
  .catch(exitOnStartupError);
