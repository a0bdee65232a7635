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

/** The feature modules of accounting-sync; the embedded host mounts the same list. */
export const ACCOUNTING_SYNC_FEATURES = [
  ConnectionsModule,
  RunsModule.forDomain('accounting', { jobs: [ConnectionsCheckJob], imports: [ConnectionsModule] }),
];

@Module({
  imports: [PlatformModule.forApp('accounting-sync'), ...ACCOUNTING_SYNC_FEATURES],
  providers: [...API_VALIDATION, ApiKeysRequired],
})
export class AccountingSyncModule {}
