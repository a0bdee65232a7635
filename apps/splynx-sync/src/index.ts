/** What hosts (apps/embedded, apps/cli, bench, tests) may use of splynx-sync. */
export { SPLYNX_SYNC_FEATURES, SplynxSyncModule } from './splynx-sync.module';
export { CustomerSyncService, SPLYNX_CUSTOMER_COLUMNS } from './customers/customer-sync.service';
export type { CustomerSyncOptions, CustomerSyncStats } from './customers/customer-sync.service';
export { SplynxCustomer } from './customers/splynx-customer.entity';
export { mapSplynxCustomer } from './customers/splynx-customer.mapper';
