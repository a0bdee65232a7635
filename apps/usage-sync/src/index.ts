/** What hosts (apps/embedded, apps/cli, bench, tests) may use of usage-sync. */
export { USAGE_SYNC_FEATURES, UsageSyncModule } from './usage-sync.module';
