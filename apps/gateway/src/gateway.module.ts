import { Module, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { PlatformModule } from '@sync-hub/platform';
import { ApiKeysRequired } from './auth/api-keys.check';
import { RunsModule } from './runs/runs.module';

/** Request validation: unknown fields rejected, 400 naming each field. */
export const GATEWAY_VALIDATION = { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) };

/** The feature modules of the gateway; the embedded host mounts the same list. */
export const GATEWAY_FEATURES = [RunsModule];

@Module({ imports: [PlatformModule.forApp('gateway'), ...GATEWAY_FEATURES], providers: [GATEWAY_VALIDATION, ApiKeysRequired] })
export class GatewayModule {}
