import { Module } from '@nestjs/common';
import { API_VALIDATION, ApiKeysRequired, PlatformModule } from '@sync-hub/platform';
import { RunsModule } from './runs/runs.module';

/** The feature modules of the gateway; the embedded host mounts the same list. */
export const GATEWAY_FEATURES = [RunsModule];

@Module({ imports: [PlatformModule.forApp('gateway'), ...GATEWAY_FEATURES], providers: [API_VALIDATION, ApiKeysRequired] })
export class GatewayModule {}
