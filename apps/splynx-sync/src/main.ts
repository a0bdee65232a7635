import 'reflect-metadata';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { SplynxSyncModule } from './splynx-sync.module';

startApp(SplynxSyncModule).catch(exitOnStartupError);
