import 'reflect-metadata';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { AccountingSyncModule } from './accounting-sync.module';

startApp(AccountingSyncModule).catch(exitOnStartupError);
