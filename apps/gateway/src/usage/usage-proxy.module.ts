import { Module } from '@nestjs/common';
import {
  UsageConfigsProxyController,
  UsagePanelsProxyController,
  UsageResellersProxyController,
} from './usage-proxy.controller';
import { UsageClient } from './usage.client';

/**
 * Distributed mode only: the usage routes (resellers, panels, reseller configs and a config's sync), forwarded to
 * usage-sync. In the embedded mode usage-sync's own controllers serve them in the same process.
 */
@Module({
  controllers: [UsageResellersProxyController, UsagePanelsProxyController, UsageConfigsProxyController],
  providers: [UsageClient],
})
export class UsageProxyModule {}
