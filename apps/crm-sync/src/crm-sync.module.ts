import { Module } from '@nestjs/common';
import { API_VALIDATION, ApiKeysRequired, PlatformModule } from '@sync-hub/platform';
import { CrmJobsModule } from './crm-sync.jobs';
import { RobawsCustomersModule } from './customers/customers.module';

/**
 * The feature modules of crm-sync; the embedded host mounts the same list. The Robaws customer jobs run here; the
 * loyalty-club jobs (cp.export, cp.visit) are not built yet and fail as JOB_NOT_SUPPORTED, their schedules disabled.
 */
export const CRM_SYNC_FEATURES = [RobawsCustomersModule, CrmJobsModule];

/** It serves the Robaws customers API (/api/crm/customers, forwarded by the gateway): API keys and validation. */
@Module({
  imports: [PlatformModule.forApp('crm-sync'), ...CRM_SYNC_FEATURES],
  providers: [...API_VALIDATION, ApiKeysRequired],
})
export class CrmSyncModule {}
