/** What hosts (apps/embedded, apps/cli, bench, tests) may use of crm-sync. */
export { CRM_SYNC_FEATURES, CrmSyncModule } from './crm-sync.module';
export { CustomerPullService, ROBAWS_CLIENTS_STREAM, ROBAWS_CUSTOMER_COLUMNS } from './customers/customer-pull.service';
export type { CustomerPullOptions, CustomerPullResult, CustomerPullStats } from './customers/customer-pull.service';
export { RobawsCustomer } from './customers/robaws-customer.entity';
export { RobawsApiClient } from './robaws/robaws-api.client';
export { CustomerPushService } from './customers/customer-push.service';
export type {
  CustomerPushOptions,
  CustomerPushResult,
  CustomerPushStats,
  PlannedPatch,
} from './customers/customer-push.service';
export { EDITABLE_FIELDS } from './customers/robaws-customer.entity';
export type { CustomerConflict, EditableField, EditableValues, LocalEdit } from './customers/robaws-customer.entity';
export { mapRobawsClient } from './customers/normalise';
export type { RobawsClientRecord } from './customers/normalise';
