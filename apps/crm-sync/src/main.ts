import 'reflect-metadata';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { CrmSyncModule } from './crm-sync.module';

startApp(CrmSyncModule).catch(exitOnStartupError);
