import 'reflect-metadata';
import { assertValidEnvironment } from '@sync-hub/config';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { GatewayModule } from './gateway.module';
import { setupOpenApi } from './openapi';

Promise.resolve()
  .then(() => assertValidEnvironment('gateway'))
  .then(() => startApp(GatewayModule, { configure: setupOpenApi }))
  .catch(exitOnStartupError);
