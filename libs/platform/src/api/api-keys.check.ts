import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig, ConfigValidationError } from '@sync-hub/config';

/** An app serving /api refuses to start without API keys: an API nobody can call, or anyone can, is no use. */
@Injectable()
export class ApiKeysRequired implements OnModuleInit {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    if (this.config.gatewayApiKeys.length === 0) {
      throw new ConfigValidationError([
        'GATEWAY_API_KEYS is required: set one or more comma-separated keys of at least 16 characters',
      ]);
    }
  }
}
