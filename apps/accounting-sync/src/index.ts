/** What hosts (apps/embedded, apps/cli, bench, tests) may use of accounting-sync. */
export { ACCOUNTING_SYNC_FEATURES, AccountingSyncModule, ConnectionsModule } from './accounting-sync.module';
export { ConnectionsService } from './connections/connections.service';
export { CompanyProjectionService } from './companies/company-projection.service';
export { QuickBooksTokens } from './quickbooks/quickbooks-tokens.service';
export { DevposTokens } from './devpos/devpos-tokens.service';
export { Connection } from './connections/connection.entity';
export { DocumentsModule } from './accounting-sync.module';
export { DocumentSyncService } from './documents/document-sync.service';
export type { DocumentSyncOptions, PlannedDocument } from './documents/document-sync.service';
export { rangeOf } from './jobs/document-jobs';
export { DevposClient } from './devpos/devpos-client';
