import { Module } from '@nestjs/common';
import { BusMetricsModule } from '@sync-hub/messaging';
import { API_VALIDATION, ApiKeysRequired, PlatformModule } from '@sync-hub/platform';
import { AccountingProxyModule } from './accounting/accounting-proxy.module';
import { CrmProxyModule } from './crm/crm-proxy.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { EventDocsModule } from './event-docs/event-docs.module';
import { NotificationsModule } from './notifications/notifications.module';
import { RunsModule } from './runs/runs.module';
import { SchedulerProxyModule } from './scheduler/scheduler-proxy.module';
import { StatusModule } from './status/status.module';
import { SyncsModule } from './syncs/syncs.module';
import { GATEWAY_THROTTLE_GUARD, GATEWAY_THROTTLING } from './throttling';
import { UsageProxyModule } from './usage/usage-proxy.module';
import { RobawsWebhooksModule } from './webhooks/robaws-webhooks.module';

/**
 * The feature modules of the gateway; the embedded host mounts the same list (and serves the scheduler's and
 * accounting-sync's routes itself).
 */
export const GATEWAY_FEATURES = [
  ...GATEWAY_THROTTLING,
  RunsModule,
  StatusModule,
  SyncsModule,
  NotificationsModule,
  DashboardModule,
  EventDocsModule,
  RobawsWebhooksModule,
];
export const GATEWAY_PROVIDERS = [GATEWAY_THROTTLE_GUARD];

@Module({
  imports: [
    PlatformModule.forApp('gateway'),
    ...GATEWAY_FEATURES,
    SchedulerProxyModule,
    AccountingProxyModule,
    CrmProxyModule,
    UsageProxyModule,
    BusMetricsModule,
  ],
  providers: [...API_VALIDATION, ApiKeysRequired, ...GATEWAY_PROVIDERS],
})
export class GatewayModule {}
