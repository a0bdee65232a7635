import 'reflect-metadata';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { GatewayModule } from './gateway.module';

startApp(GatewayModule).catch(exitOnStartupError);
