import { Module } from '@nestjs/common';
import { API_VALIDATION, PlatformModule } from '@sync-hub/platform';
import { RunsModule } from '@sync-hub/runs';
import { UsageManagementModule } from './management/usage-management.module';

/**
 * The feature modules of usage-sync; the embedded host mounts the same list: the management API (resellers, panels,
 * configs). No usage job is built yet: the app answers `ping` and fails every other usage job as JOB_NOT_SUPPORTED,
 * and the scheduler keeps their schedules disabled.
 */
export const USAGE_SYNC_FEATURES = [RunsModule.forDomain('usage', { jobs: [] }), UsageManagementModule];

/**
 * It serves the usage management API (/api/usage/…, forwarded by the gateway), behind the API key guard; its panel
 * credentials are sealed with SECRETS_KEY, which the distributed mode therefore needs here too.
 */
@Module({
  imports: [PlatformModule.forApp('usage-sync'), ...USAGE_SYNC_FEATURES],
  providers: [...API_VALIDATION],
})
export class UsageSyncModule {}
