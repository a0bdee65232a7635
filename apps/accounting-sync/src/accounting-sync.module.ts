import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretKeyCheck } from '@sync-hub/persistence';
import { API_VALIDATION, ApiKeysRequired, PlatformModule } from '@sync-hub/platform';
import { RunsModule } from '@sync-hub/runs';
import { CompanyChangesController } from './companies/company-changes.controller';
import { CompanyProjection } from './companies/company-projection.entity';
import { CompanyProjectionService } from './companies/company-projection.service';
import { Connection } from './connections/connection.entity';
import { ConnectionSecrets } from './connections/connection-secrets';
import { ConnectionsController, QuickBooksCallbackController } from './connections/connections.controller';
import { ConnectionsService } from './connections/connections.service';
import { OAuthState } from './connections/oauth-state.entity';
import { ConnectionsCheckJob } from './jobs/connections-check.job';
import { BillsJob, FullJob, SalesJob } from './jobs/document-jobs';
import { AccountingDocument } from './documents/accounting-document.entity';
import { AccountingParty } from './documents/accounting-party.entity';
import { AccountingSettings } from './documents/accounting-settings.entity';
import { DocumentSyncService } from './documents/document-sync.service';
import { DocumentsController } from './documents/documents.controller';
import { DocumentsApiService } from './documents/documents-api.service';
import { PartyResolver } from './documents/party-resolver';
import { DevposClient } from './devpos/devpos-client';
import { DevposTokens } from './devpos/devpos-tokens.service';
import { QuickBooksApiClient } from './quickbooks/quickbooks-api.client';
import { QuickBooksOAuthClient } from './quickbooks/quickbooks-oauth.client';
import { QuickBooksTokens } from './quickbooks/quickbooks-tokens.service';

/**
 * Companies (a projection of the scheduler's) and their QuickBooks and DevPos connections: secrets sealed with
 * SECRETS_KEY, the token lifecycle (`freshQuickBooksToken`, `devposToken`) and the connection API. The accounting
 * jobs use its exports.
 */
@Module({
  imports: [TypeOrmModule.forFeature([CompanyProjection, Connection, OAuthState, SecretKeyCheck])],
  controllers: [CompanyChangesController, ConnectionsController, QuickBooksCallbackController],
  providers: [
    CompanyProjectionService,
    ConnectionSecrets,
    ConnectionsService,
    QuickBooksOAuthClient,
    QuickBooksApiClient,
    QuickBooksTokens,
    DevposClient,
    DevposTokens,
  ],
  exports: [
    CompanyProjectionService,
    ConnectionsService,
    QuickBooksTokens,
    QuickBooksApiClient,
    DevposTokens,
    DevposClient,
  ],
})
export class ConnectionsModule {}

/**
 * The DevPos → QuickBooks document sync (issue 10): documents, parties, the per-company mapping, and the documents
 * API (its retry runs through the run executor, which RunsModule provides to the whole process).
 */
@Module({
  imports: [TypeOrmModule.forFeature([AccountingDocument, AccountingParty, AccountingSettings]), ConnectionsModule],
  controllers: [DocumentsController],
  providers: [DocumentSyncService, PartyResolver, DocumentsApiService],
  exports: [DocumentSyncService],
})
export class DocumentsModule {}

/** The feature modules of accounting-sync; the embedded host mounts the same list. */
export const ACCOUNTING_SYNC_FEATURES = [
  ConnectionsModule,
  DocumentsModule,
  RunsModule.forDomain('accounting', {
    jobs: [SalesJob, BillsJob, FullJob, ConnectionsCheckJob],
    imports: [ConnectionsModule, DocumentsModule],
  }),
];

@Module({
  imports: [PlatformModule.forApp('accounting-sync'), ...ACCOUNTING_SYNC_FEATURES],
  providers: [...API_VALIDATION, ApiKeysRequired],
})
export class AccountingSyncModule {}
