import { Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClassifiedError, ConfigurationError } from '@sync-hub/contracts';
import { MetricsService } from '@sync-hub/observability';
import { lockedQuery } from '@sync-hub/persistence';
import type { DataSource } from 'typeorm';
import { Connection, DevposSecrets, DevposSettings } from '../connections/connection.entity';
import { ConnectionSecrets } from '../connections/connection-secrets';
import { NotConnectedError } from '../quickbooks/quickbooks-tokens.service';
import { DevposClient, DevposLoginPageError, DevposLoginRefusedError } from './devpos-client';

/** A cached DevPos token is used until 5 minutes before it expires. */
const MARGIN_MS = 5 * 60_000;

/**
 * DevPos logins (no refresh tokens: log in again). `devposToken` answers the token cached in the connection row until
 * 5 minutes before it expires, else logs in, single-flight per company like the QuickBooks refresh, and caches the new
 * token (sealed) in the row. A refused login marks the connection reauth_required, and later calls fail at once
 * without trying the password again until it is replaced.
 */
@Injectable()
export class DevposTokens {
  private readonly logger = new Logger(DevposTokens.name);
  private readonly inflight = new Map<number, Promise<{ token: string; tenant: string } | { error: unknown }>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: ConnectionSecrets,
    private readonly client: DevposClient,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async devposToken(companyId: number): Promise<string> {
    return (await this.session(companyId)).token;
  }

  /** The token and the tenant it is for (every API call sends both). */
  async session(companyId: number, options: { relogin?: boolean } = {}): Promise<{ token: string; tenant: string }> {
    const row = await this.dataSource.getRepository(Connection).findOneBy({ companyId, provider: 'devpos' });
    if (!row) throw new NotConnectedError(companyId, 'DevPos');
    if (row.status === 'reauth_required') throw refused(companyId, row.statusReason);
    const cached = this.usable(row);
    if (cached && !options.relogin) return cached;
    let attempt = this.inflight.get(companyId);
    if (!attempt) {
      attempt = this.loginLocked(companyId, options.relogin ? cached?.token : undefined).finally(() =>
        this.inflight.delete(companyId),
      );
      this.inflight.set(companyId, attempt);
    }
    const outcome = await attempt;
    if ('error' in outcome) throw outcome.error;
    return outcome;
  }

  private usable(row: Connection): { token: string; tenant: string } | null {
    const s = this.secrets.open<DevposSecrets>(row);
    const expires = row.accessTokenExpiresAt ? new Date(row.accessTokenExpiresAt).getTime() : 0;
    if (!s.accessToken || expires - Date.now() < MARGIN_MS) return null;
    return { token: s.accessToken, tenant: (JSON.parse(row.settings) as DevposSettings).tenant };
  }

  private loginLocked(companyId: number, rejected: string | undefined) {
    return this.dataSource.transaction(async (m): Promise<{ token: string; tenant: string } | { error: unknown }> => {
      const row = await lockedQuery(m, Connection, 'c')
        .where('c.company_id = :companyId AND c.provider = :provider', { companyId, provider: 'devpos' })
        .getOne();
      if (!row) return { error: new NotConnectedError(companyId, 'DevPos') };
      if (row.status === 'reauth_required') return { error: refused(companyId, row.statusReason) };
      const cached = this.usable(row);
      if (cached && cached.token !== rejected) return cached;
      const settings = JSON.parse(row.settings) as DevposSettings;
      const stored = this.secrets.open<DevposSecrets>(row);
      const now = new Date();
      try {
        const login = await this.client.login(companyId, settings.tenant, settings.username, stored.password);
        row.secrets = this.secrets.seal(row, { password: stored.password, accessToken: login.accessToken });
        row.accessTokenExpiresAt = new Date(now.getTime() + login.expiresIn * 1000);
        row.status = 'ok';
        row.statusReason = null;
        row.lastRefreshedAt = now;
        row.updatedAt = now;
        await m.save(Connection, row);
        this.logger.log(`logged in to DevPos for company ${companyId}`);
        return { token: login.accessToken, tenant: settings.tenant };
      } catch (err) {
        this.metrics?.tokenRefreshFailures.inc({ upstream: 'devpos' });
        row.status = err instanceof DevposLoginRefusedError ? 'reauth_required' : 'failing';
        row.statusReason = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
        row.updatedAt = now;
        await m.save(Connection, row);
        return {
          error: err instanceof ClassifiedError ? err : new ConfigurationError('DEVPOS_LOGIN_FAILED', row.statusReason),
        };
      }
    });
  }

  /** Runs `call` with a token; the login page in answer (the token was dropped early) logs in once more and retries. */
  async withDevpos<T>(companyId: number, call: (token: string, tenant: string) => Promise<T>): Promise<T> {
    const first = await this.session(companyId);
    try {
      return await call(first.token, first.tenant);
    } catch (err) {
      if (!(err instanceof DevposLoginPageError)) throw err;
      const again = await this.session(companyId, { relogin: true });
      return call(again.token, again.tenant);
    }
  }
}

function refused(companyId: number, reason: string | null): ConfigurationError {
  return new ConfigurationError(
    'DEVPOS_LOGIN_REFUSED',
    reason ??
      `DevPos refused the login of company ${companyId}: update it with PUT /api/companies/${companyId}/connections/devpos`,
  );
}
