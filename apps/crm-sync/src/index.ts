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
export { CpExportService } from './cp/cp-export.service';
export type { CpMode, CpProbe, CpRoundProgress, CpRunOptions, CpRunStats, CpStreamState } from './cp/cp-export.service';
export { CpExportClient } from './cp/cp-export.client';
export { CpExportModule } from './cp/cp.module';
export {
  CP_ENTITIES,
  CP_TABLE_SPECS,
  cpEntity,
  cpTableSpec,
  exportStream,
  reconcileStream,
  writtenColumns,
} from './cp/cp-tables';
export type { CpColumnSpec, CpColumnType, CpTableSpec } from './cp/cp-tables';
