import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '@sync-hub/config';
import { API_VALIDATION, PlatformModule } from '@sync-hub/platform';
import { ACCOUNTING_SYNC_FEATURES } from '../../accounting-sync/src';
import { CRM_SYNC_FEATURES } from '../../crm-sync/src';
import { GATEWAY_FEATURES, GATEWAY_PROVIDERS } from '../../gateway/src';
import { SCHEDULER_FEATURES } from '../../scheduler/src';
import { SPLYNX_SYNC_FEATURES } from '../../splynx-sync/src';
import { USAGE_SYNC_FEATURES } from '../../usage-sync/src';

/**
 * Every app's feature modules in one process, over one platform (in-process bus, one SQLite file). This host and the
 * CLI are composition roots: they import the apps; no app imports another.
 */
@Module({})
export class EmbeddedModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: EmbeddedModule,
      imports: [
        PlatformModule.forConfig(config),
        ...GATEWAY_FEATURES,
        ...SCHEDULER_FEATURES,
        ...SPLYNX_SYNC_FEATURES,
        ...ACCOUNTING_SYNC_FEATURES,
        ...CRM_SYNC_FEATURES,
        ...USAGE_SYNC_FEATURES,
      ],
      providers: [...API_VALIDATION, ...GATEWAY_PROVIDERS],
    };
  }
}
