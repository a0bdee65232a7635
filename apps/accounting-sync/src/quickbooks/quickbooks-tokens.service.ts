import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ClassifiedError, ConfigurationError } from '@sync-hub/contracts';
import { MetricsService } from '@sync-hub/observability';
import { lockedQuery } from '@sync-hub/persistence';
import type { DataSource, EntityManager } from 'typeorm';
import { Connection, QuickBooksSecrets, QuickBooksSettings } from '../connections/connection.entity';
import { ConnectionSecrets } from '../connections/connection-secrets';
import { isUnauthorized } from './quickbooks-api.client';
import { InvalidGrantError, QuickBooksOAuthClient, QuickBooksTokenSet } from './quickbooks-oauth.client';

/** The company's QuickBooks grant is dead (invalid_grant): a person must reconnect; nothing else is tried until then. */
export class ReauthRequiredError extends ConfigurationError {
  constructor(companyId: number, reason: string | null) {
    super('REAUTH_REQUIRED', `Reconnect QuickBooks for company ${companyId}${reason ? `: ${reason}` : ''}`);
    this.name = 'ReauthRequiredError';
  }
}

export class NotConnectedError extends ConfigurationError {
  constructor(companyId: number, provider: 'QuickBooks' | 'DevPos') {
    super(
      `${provider.toUpperCase()}_NOT_CONNECTED`,
      provider === 'QuickBooks'
        ? `QuickBooks is not connected for company ${companyId}: connect it from the dashboard or with accounting:connect --company=${companyId}`
        : `DevPos is not connected for company ${companyId}: PUT /api/companies/${companyId}/connections/devpos with its login`,
    );
  }
}

export interface FreshTokenOptions {
  /** Refresh whatever the expiry (the CLI's --force-refresh, the daily check of idle connections). */
  force?: boolean;
  /** The access token the API just refused (401): refresh unless another caller already replaced it. */
  rejected?: string;
}

export interface TokenInfo {
  realmId: string;
  accessTokenExpiresAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  lastRefreshedAt: Date | null;
  refreshed: boolean;
}

type Outcome = { token: string; info: TokenInfo } | { error: unknown };

/**
 * The QuickBooks token lifecycle (seed 001, issue 9): `freshQuickBooksToken` is the only way code gets a token. A token
 * with more than the margin left (10 minutes by default) is used as stored; otherwise it is refreshed single-flight per
 * connection across every process: callers in one process share one attempt, and the attempt locks the connection row
 * (SELECT … FOR UPDATE; SQLite serialises), re-reads it, refreshes only if still needed, and stores the new access token
 * and the rotated refresh token (with its expiry) in the same transaction before anyone uses them.
 */
@Injectable()
export class QuickBooksTokens {
  private readonly logger = new Logger(QuickBooksTokens.name);
  private readonly inflight = new Map<string, Promise<Outcome>>();
  private readonly marginMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: ConnectionSecrets,
    private readonly oauth: QuickBooksOAuthClient,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.marginMs = config.accounting.quickbooks.refreshMarginMs;
  }

  /** A QuickBooks access token for the company that is good for at least the margin. */
  async freshQuickBooksToken(companyId: number, options: FreshTokenOptions = {}): Promise<string> {
    return (await this.tokenWithInfo(companyId, options)).token;
  }

  /** The token and what the CLI shows of it (expiries; whether this call refreshed). */
  async tokenWithInfo(companyId: number, options: FreshTokenOptions = {}): Promise<{ token: string; info: TokenInfo }> {
    const row = await this.dataSource.getRepository(Connection).findOneBy({ companyId, provider: 'quickbooks' });
    if (!row) throw new NotConnectedError(companyId, 'QuickBooks');
    if (row.status === 'reauth_required') throw new ReauthRequiredError(companyId, row.statusReason);
    const stored = this.secrets.open<QuickBooksSecrets>(row);
    if (!this.needsRefresh(row, stored, options, new Date()))
      return { token: stored.accessToken!, info: info(row, false) };

    // Forced and ordinary attempts are not shared: an ordinary one may find a refresh unnecessary.
    const key = `${companyId}:${options.force ? 'force' : 'due'}`;
    let attempt = this.inflight.get(key);
    if (!attempt) {
      attempt = this.refreshLocked(companyId, options, new Date()).finally(() => this.inflight.delete(key));
      this.inflight.set(key, attempt);
    }
    const outcome = await attempt;
    if ('error' in outcome) throw outcome.error;
    return outcome;
  }

  /**
   * Runs `call` with a fresh token and the company's realm. A 401 (the token was refused before its expiry: revoked,
   * or Intuit's clock) forces one refresh, through the same single flight, and one retry of the call.
   */
  async withQuickBooks<T>(companyId: number, call: (token: string, realmId: string) => Promise<T>): Promise<T> {
    const { token, info: first } = await this.tokenWithInfo(companyId);
    try {
      return await call(token, first.realmId);
    } catch (err) {
      if (!isUnauthorized(err)) throw err;
      this.logger.warn(
        `QuickBooks refused the access token of company ${companyId} (401): refreshing once and retrying`,
      );
      const again = await this.tokenWithInfo(companyId, { rejected: token });
      return call(again.token, again.info.realmId);
    }
  }

  private needsRefresh(row: Connection, s: QuickBooksSecrets, o: FreshTokenOptions, now: Date): boolean {
    if (o.force || !s.accessToken || !row.accessTokenExpiresAt) return true;
    if (o.rejected !== undefined && s.accessToken === o.rejected) return true;
    return new Date(row.accessTokenExpiresAt).getTime() - now.getTime() < this.marginMs;
  }

  /** One process's attempt: lock, re-read, refresh if still needed, store, commit; errors are recorded on the row. */
  private async refreshLocked(companyId: number, options: FreshTokenOptions, requestedAt: Date): Promise<Outcome> {
    const outcome = await this.dataSource.transaction(async (m): Promise<Outcome> => {
      const row = await lockedQuery(m, Connection, 'c')
        .where('c.company_id = :companyId AND c.provider = :provider', { companyId, provider: 'quickbooks' })
        .getOne();
      if (!row) return { error: new NotConnectedError(companyId, 'QuickBooks') };
      if (row.status === 'reauth_required') return { error: new ReauthRequiredError(companyId, row.statusReason) };
      const stored = this.secrets.open<QuickBooksSecrets>(row);
      const now = new Date();
      // Another process may have refreshed while this one waited for the lock: then its token is the answer (for a
      // forced refresh, when that refresh happened after this one was asked for).
      const refreshedSince = row.lastRefreshedAt !== null && new Date(row.lastRefreshedAt) >= requestedAt;
      const needed = options.force ? !refreshedSince : this.needsRefresh(row, stored, options, now);
      if (!needed) return { token: stored.accessToken!, info: info(row, false) };
      try {
        const answer = await this.oauth.refresh(stored.refreshToken);
        await this.store(m, row, stored, answer, now);
        this.logger.log(`refreshed the QuickBooks token of company ${companyId}`);
        return { token: answer.accessToken, info: info(row, true) };
      } catch (err) {
        this.metrics?.tokenRefreshFailures.inc({ upstream: 'quickbooks' });
        return { error: await this.recordFailure(m, row, err, now) };
      }
    });
    return outcome;
  }

  private async store(
    m: EntityManager,
    row: Connection,
    stored: QuickBooksSecrets,
    answer: QuickBooksTokenSet,
    now: Date,
  ): Promise<void> {
    row.secrets = this.secrets.seal(row, {
      accessToken: answer.accessToken,
      // An answer without a refresh token keeps the stored one (and its expiry).
      refreshToken: answer.refreshToken ?? stored.refreshToken,
    } satisfies QuickBooksSecrets);
    row.accessTokenExpiresAt = new Date(now.getTime() + answer.expiresIn * 1000);
    if (answer.refreshToken && answer.refreshExpiresIn !== null)
      row.refreshTokenExpiresAt = new Date(now.getTime() + answer.refreshExpiresIn * 1000);
    row.status = 'ok';
    row.statusReason = null;
    row.lastRefreshedAt = now;
    row.updatedAt = now;
    await m.save(Connection, row);
  }

  /** invalid_grant → reauth_required (later runs fail at once); anything else → failing, with its reason. */
  private async recordFailure(m: EntityManager, row: Connection, err: unknown, now: Date): Promise<unknown> {
    if (err instanceof InvalidGrantError) {
      row.status = 'reauth_required';
      row.statusReason = `Intuit refused the refresh token (invalid_grant${err.description ? `: ${err.description}` : ''}); the connection must be authorised again`;
      row.updatedAt = now;
      await m.save(Connection, row);
      this.logger.warn(`QuickBooks connection of company ${row.companyId} needs reconnecting: ${row.statusReason}`);
      return new ReauthRequiredError(row.companyId, row.statusReason);
    }
    row.status = 'failing';
    row.statusReason = `token refresh failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
    row.updatedAt = now;
    await m.save(Connection, row);
    return err instanceof ClassifiedError ? err : new ConfigurationError('TOKEN_REFRESH_FAILED', row.statusReason);
  }
}

function info(row: Connection, refreshed: boolean): TokenInfo {
  const settings = JSON.parse(row.settings) as QuickBooksSettings;
  return {
    realmId: settings.realmId,
    accessTokenExpiresAt: row.accessTokenExpiresAt ? new Date(row.accessTokenExpiresAt) : null,
    refreshTokenExpiresAt: row.refreshTokenExpiresAt ? new Date(row.refreshTokenExpiresAt) : null,
    lastRefreshedAt: row.lastRefreshedAt ? new Date(row.lastRefreshedAt) : null,
    refreshed,
  };
}
