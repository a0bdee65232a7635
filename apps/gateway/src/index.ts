/** What hosts (apps/embedded, apps/cli, bench, tests) may use of the gateway. */
export { GATEWAY_FEATURES, GATEWAY_PROVIDERS, GatewayModule } from './gateway.module';
export { setupOpenApi } from './openapi';
export { RunRetentionService } from './runs/run-retention.service';
export { SyncRun } from './runs/sync-run.entity';
export { Notification, NotificationState } from './notifications/notification.entities';
