import { Module } from '@nestjs/common';
import { CrmClient } from './crm.client';
import { CrmProxyController } from './crm-proxy.controller';

/**
 * Distributed mode only: the Robaws customers routes, forwarded to crm-sync. In the embedded mode crm-sync's own
 * controller serves them in the same process.
 */
@Module({ controllers: [CrmProxyController], providers: [CrmClient] })
export class CrmProxyModule {}
