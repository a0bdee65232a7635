/** What hosts (apps/embedded, apps/cli, bench, tests) may use of accounting-sync. */
export { ACCOUNTING_SYNC_FEATURES, AccountingSyncModule } from './accounting-sync.module';
