import 'reflect-metadata';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { UsageSyncModule } from './usage-sync.module';

startApp(UsageSyncModule).catch(exitOnStartupError);
