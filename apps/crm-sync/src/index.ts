/** What hosts (apps/embedded, apps/cli, bench, tests) may use of crm-sync. */
export { CRM_SYNC_FEATURES, CrmSyncModule } from './crm-sync.module';
