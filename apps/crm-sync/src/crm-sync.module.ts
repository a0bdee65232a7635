import { Module } from '@nestjs/common';
import { API_VALIDATION, PlatformModule } from '@sync-hub/platform';
import { CpExportModule } from './cp/cp.module';
import { CrmJobsModule } from './crm-sync.jobs';
import { RobawsCustomersModule } from './customers/customers.module';
import { RobawsWebhookConsumerModule } from './webhooks/robaws-webhooks.module';

/**
 * The feature modules of crm-sync; the embedded host mounts the same list: the Robaws customer jobs and the
 * loyalty-club export's (cp.export, cp.reconcile, cp.visit).
 */
export const CRM_SYNC_FEATURES = [RobawsCustomersModule, CpExportModule, CrmJobsModule, RobawsWebhookConsumerModule];

/**
 * It serves the Robaws customers API too (/api/crm/customers, forwarded by the gateway), behind the API key guard.
 * Unlike the gateway it starts without GATEWAY_API_KEYS (its jobs are its main work): then every API call is a 401.
 */
@Module({
  imports: [PlatformModule.forApp('crm-sync'), ...CRM_SYNC_FEATURES],
  providers: [...API_VALIDATION],
})
export class CrmSyncModule {}
