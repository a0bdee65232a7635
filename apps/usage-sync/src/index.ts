/** What hosts (apps/embedded, apps/cli, bench, tests) may use of usage-sync. */
export { USAGE_SYNC_FEATURES, UsageSyncModule } from './usage-sync.module';
export { ResellerUsageModule } from './sync/reseller-usage.module';
export { UsageSyncService, UsageRunReport } from './sync/usage-sync.service';
export { UsagePanelsModule } from './panels/panels.module';
export { PanelsApiService } from './management/panels-api.service';
export { Panel, Reseller, ResellerConfig } from './model/usage.entities';
