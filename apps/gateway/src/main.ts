import 'reflect-metadata';
import { assertValidEnvironment } from '@sync-hub/config';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { GatewayModule } from './gateway.module';

Promise.resolve()
  .then(() => assertValidEnvironment('gateway'))
  .then(() => startApp(GatewayModule))
  .catch(exitOnStartupError);
