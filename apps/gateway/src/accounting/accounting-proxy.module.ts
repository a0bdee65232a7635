import { Module } from '@nestjs/common';
import { AccountingClient } from './accounting.client';
import { AccountingProxyController, QuickBooksCallbackProxyController } from './accounting-proxy.controller';
import { DocumentsProxyController } from './documents-proxy.controller';

/**
 * Distributed mode only: the connection and document routes and the public QuickBooks callback, forwarded to
 * accounting-sync. In the embedded mode accounting-sync's own controllers serve them in the same process.
 */
@Module({
  controllers: [AccountingProxyController, DocumentsProxyController, QuickBooksCallbackProxyController],
  providers: [AccountingClient],
})
export class AccountingProxyModule {}
