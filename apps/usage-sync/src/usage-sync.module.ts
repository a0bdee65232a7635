import { Module } from '@nestjs/common';
import { API_VALIDATION, ApiKeysRequired, PlatformModule } from '@sync-hub/platform';
import { UsageManagementModule } from './management/usage-management.module';
import { UsagePanelsModule } from './panels/panels.module';
import { ResellerUsageModule } from './sync/reseller-usage.module';
import { UsageJobsModule } from './usage-sync.jobs';

/**
 * The feature modules of usage-sync; the embedded host mounts the same list: the usage tables and the panels' sealed
 * credentials, the management API (resellers, panels, configs), the usage sync with its diagnostic route, and the
 * `reseller.usage` job.
 */
export const USAGE_SYNC_FEATURES = [UsagePanelsModule, UsageManagementModule, ResellerUsageModule, UsageJobsModule];

/**
 * It serves the usage API (/api/usage, forwarded by the gateway) behind the API key guard, so it refuses to start
 * without GATEWAY_API_KEYS; its panel credentials are sealed with SECRETS_KEY (PanelSecrets proves it at start).
 */
@Module({
  imports: [PlatformModule.forApp('usage-sync'), ...USAGE_SYNC_FEATURES],
  providers: [...API_VALIDATION, ApiKeysRequired],
})
export class UsageSyncModule {}
