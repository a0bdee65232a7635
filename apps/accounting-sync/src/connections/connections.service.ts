import {
  BadGatewayException,
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import {
  AuthorizeView,
  CONNECTION_PROVIDERS,
  ConnectionProvider,
  ConnectionView,
  PutDevposConnectionDto,
  quickBooksCallbackRedirect,
} from '@sync-hub/contracts';
import { UpstreamHttpError } from '@sync-hub/http';
import { lockedQuery } from '@sync-hub/persistence';
import type { DataSource } from 'typeorm';
import { CompanyProjectionService } from '../companies/company-projection.service';
import { DevposClient } from '../devpos/devpos-client';
import { QuickBooksOAuthClient, QuickBooksTokenSet } from '../quickbooks/quickbooks-oauth.client';
import { Connection, DevposSecrets, DevposSettings, QuickBooksSecrets, QuickBooksSettings } from './connection.entity';
import { ConnectionSecrets } from './connection-secrets';
import { OAuthState } from './oauth-state.entity';

/** How long an authorize link works (Intuit's own codes live 5 minutes; the person may take a while to log in). */
const STATE_TTL_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

/** The QuickBooks callback's query, as Intuit sends it (an `error` instead of a code when the person declines). */
export interface CallbackQuery {
  code?: string;
  realmId?: string;
  state?: string;
  error?: string;
}

/**
 * Companies' connections (owned by accounting-sync): what the API shows of them (status and expiries, never secrets),
 * the DevPos login, disconnecting (QuickBooks tokens are revoked at Intuit first), the QuickBooks authorization-code
 * flow with a signed, expiring, one-use `state`, and seeding company 1 from the environment at start.
 */
@Injectable()
export class ConnectionsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ConnectionsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: ConnectionSecrets,
    private readonly companies: CompanyProjectionService,
    private readonly oauth: QuickBooksOAuthClient,
    private readonly devpos: DevposClient,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(Connection);
  }

  /**
   * Environment seeding for a single-tenant install: company 1's connections from QBO_REALM_ID + QBO_REFRESH_TOKEN and
   * DEVPOS_TENANT + DEVPOS_USERNAME + DEVPOS_PASSWORD. A missing connection is created. An existing one is replaced
   * only when it came from the environment itself and the environment now holds different values (the operator put
   * in a new refresh token), never when it was connected through the API: stored tokens that rotated since the seed
   * are newer than the environment's, and a connection made in the dashboard wins over the environment.
   */
  async onApplicationBootstrap(): Promise<void> {
    const { quickbooks, devpos } = this.config.accounting;
    if (quickbooks.seedRefreshToken && quickbooks.seedRealmId) {
      const realmId = quickbooks.seedRealmId;
      const seed = this.secrets.sign(`quickbooks:${realmId}:${quickbooks.seedRefreshToken}`);
      const done = await this.seed(1, 'quickbooks', seed, (row) => {
        row.settings = JSON.stringify({
          realmId,
          environment: quickbooks.environment,
          seed,
        } satisfies QuickBooksSettings);
        row.secrets = this.secrets.seal(row, {
          accessToken: null,
          refreshToken: quickbooks.seedRefreshToken!,
        } satisfies QuickBooksSecrets);
      });
      if (done)
        this.logger.log(`company 1: QuickBooks realm ${realmId} ${done} from QBO_REALM_ID and QBO_REFRESH_TOKEN`);
    }
    if (devpos.seed) {
      const { tenant, username, password } = devpos.seed;
      const seed = this.secrets.sign(`devpos:${tenant}:${username}:${password}`);
      const done = await this.seed(1, 'devpos', seed, (row) => {
        row.settings = JSON.stringify({ username, tenant, tracksVat: false, seed } satisfies DevposSettings);
        row.secrets = this.secrets.seal(row, { password, accessToken: null } satisfies DevposSecrets);
      });
      if (done) this.logger.log(`company 1: DevPos tenant ${tenant} ${done} from DEVPOS_* settings`);
    }
  }

  /** Creates or replaces a seeded connection under the row lock (replicas start together); null when left alone. */
  private seed(
    companyId: number,
    provider: ConnectionProvider,
    fingerprint: string,
    fill: (row: Connection) => void,
  ): Promise<'connected' | 'replaced' | null> {
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(Connection);
      const existing = await lockedQuery(m, Connection, 'c')
        .where('c.company_id = :companyId AND c.provider = :provider', { companyId, provider })
        .getOne();
      if (existing) {
        const was = (JSON.parse(existing.settings) as { seed?: string }).seed;
        if (!was || was === fingerprint) return null;
      }
      const now = new Date();
      const row = existing ?? repo.create({ companyId, provider, createdAt: now });
      fill(row);
      row.accessTokenExpiresAt = null;
      row.refreshTokenExpiresAt = null;
      row.status = 'ok';
      row.statusReason = null;
      row.lastRefreshedAt = null;
      row.updatedAt = now;
      try {
        await repo.save(row);
      } catch (err) {
        // Another replica inserted it first (SQLite has no row to lock before the insert): theirs stands.
        if (!existing) return null;
        throw err;
      }
      return existing ? 'replaced' : 'connected';
    });
  }

  async list(companyId: number): Promise<ConnectionView[]> {
    await this.companies.get(companyId);
    const rows = await this.repo.findBy({ companyId });
    return CONNECTION_PROVIDERS.map((provider) =>
      view(
        companyId,
        provider,
        rows.find((r) => r.provider === provider),
      ),
    );
  }

  find(companyId: number, provider: ConnectionProvider): Promise<Connection | null> {
    return this.repo.findOneBy({ companyId, provider });
  }

  /** All connections of all companies (the CLI's list, the daily check). */
  all(): Promise<Connection[]> {
    return this.repo.find({ order: { companyId: 'ASC', provider: 'ASC' } });
  }

  /**
   * Stores the company's DevPos login (replacing any), then tries it at once so the answer says whether DevPos took
   * it: `ok`, or `reauth_required` with DevPos's reason. The password is sealed and never answered.
   */
  async putDevpos(companyId: number, dto: PutDevposConnectionDto): Promise<ConnectionView> {
    await this.companies.get(companyId);
    const now = new Date();
    const settings: DevposSettings = { username: dto.username, tenant: dto.tenant, tracksVat: dto.tracks_vat ?? false };
    let secrets: DevposSecrets = { password: dto.password, accessToken: null };
    let status: Connection['status'] = 'ok';
    let reason: string | null = null;
    let expires: Date | null = null;
    try {
      const login = await this.devpos.login(companyId, dto.tenant, dto.username, dto.password);
      secrets = { ...secrets, accessToken: login.accessToken };
      expires = new Date(now.getTime() + login.expiresIn * 1000);
    } catch (err) {
      status = (err as { code?: string }).code === 'DEVPOS_LOGIN_REFUSED' ? 'reauth_required' : 'failing';
      reason = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
    }
    await this.dataSource.transaction(async (m) => {
      const existing = await m.getRepository(Connection).findOneBy({ companyId, provider: 'devpos' });
      const row = existing ?? m.getRepository(Connection).create({ companyId, provider: 'devpos', createdAt: now });
      row.settings = JSON.stringify(settings);
      row.secrets = this.secrets.seal(row, secrets);
      row.accessTokenExpiresAt = expires;
      row.refreshTokenExpiresAt = null;
      row.status = status;
      row.statusReason = reason;
      row.lastRefreshedAt = expires ? now : null;
      row.updatedAt = now;
      await m.save(Connection, row);
    });
    this.logger.log(`stored the DevPos login of company ${companyId} (tenant ${dto.tenant}): ${status}`);
    return (await this.list(companyId)).find((v) => v.provider === 'devpos')!;
  }

  /**
   * Forgets a connection. QuickBooks tokens are revoked at Intuit first: if Intuit cannot be reached, nothing is
   * forgotten (502), so no live grant is left behind; a token Intuit no longer knows is forgotten.
   */
  async disconnect(companyId: number, provider: string): Promise<void> {
    if (!(CONNECTION_PROVIDERS as readonly string[]).includes(provider))
      throw new NotFoundException(`unknown provider ${provider}; known: ${CONNECTION_PROVIDERS.join(', ')}`);
    const row = await this.repo.findOneBy({ companyId, provider: provider as ConnectionProvider });
    if (!row) throw new NotFoundException(`company ${companyId} has no ${provider} connection`);
    if (provider === 'quickbooks') {
      const s = this.secrets.open<QuickBooksSecrets>(row);
      try {
        await this.oauth.revoke(s.refreshToken);
      } catch (err) {
        const gone = err instanceof UpstreamHttpError && err.status === 400;
        if (!gone)
          throw new BadGatewayException(
            `Intuit did not confirm the revocation (${err instanceof Error ? err.message : String(err)}); the connection is kept: try again`,
          );
      }
    }
    await this.repo.delete({ id: row.id });
    this.logger.log(`disconnected ${provider} from company ${companyId}`);
  }

  /** The authorize URL for a person connecting the company's QuickBooks, with a signed one-use state. */
  async authorize(companyId: number): Promise<AuthorizeView> {
    await this.companies.get(companyId);
    this.oauth.assertConfigured();
    const id = randomBytes(24).toString('base64url');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + STATE_TTL_MS);
    await this.dataSource
      .getRepository(OAuthState)
      .insert({ id, companyId, expiresAt, consumedAt: null, createdAt: now });
    const payload = `${id}.${companyId}.${expiresAt.getTime()}`;
    return {
      url: this.oauth.authorizeUrl(`${payload}.${this.secrets.sign(payload)}`),
      expires_at: expiresAt.toISOString(),
    };
  }

  /**
   * The callback: the state is the authentication. A bad, expired or replayed state is a 400 and stores nothing; a
   * good one is consumed (once, across processes), the code is exchanged once, and the tokens and realm are stored.
   * Answers where to send the browser: the dashboard, with the result.
   */
  async callback(q: CallbackQuery): Promise<string> {
    const companyId = await this.consumeState(q.state);
    if (q.error) return quickBooksCallbackRedirect(companyId, { ok: false, reason: `Intuit answered ${q.error}` });
    if (!q.code || !q.realmId || !/^\d{1,32}$/.test(q.realmId))
      return quickBooksCallbackRedirect(companyId, { ok: false, reason: 'the callback carried no code or realmId' });
    let tokens: QuickBooksTokenSet;
    try {
      tokens = await this.oauth.exchangeCode(q.code);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.warn(`QuickBooks code exchange for company ${companyId} failed: ${reason}`);
      return quickBooksCallbackRedirect(companyId, { ok: false, reason });
    }
    if (!tokens.refreshToken)
      return quickBooksCallbackRedirect(companyId, { ok: false, reason: 'Intuit answered without a refresh token' });
    await this.storeAuthorization(companyId, q.realmId, tokens);
    this.logger.log(`company ${companyId} connected QuickBooks realm ${q.realmId}`);
    return quickBooksCallbackRedirect(companyId, { ok: true });
  }

  private async consumeState(state: string | undefined): Promise<number> {
    const parts = (state ?? '').split('.');
    const bad = () =>
      new BadRequestException('invalid state: unknown, expired or already used; start connecting again');
    if (parts.length !== 4) throw bad();
    const [id, company, expires, signature] = parts;
    if (this.secrets.sign(`${id}.${company}.${expires}`) !== signature) throw bad();
    const now = new Date();
    if (Number(expires) <= now.getTime()) throw bad();
    // One UPDATE decides which request consumes the state, in whichever process it arrives.
    const res = await this.dataSource
      .getRepository(OAuthState)
      .createQueryBuilder()
      .update()
      .set({ consumedAt: now })
      .where('id = :id AND company_id = :company AND consumed_at IS NULL AND expires_at > :now', {
        id,
        company: Number(company),
        now,
      })
      .execute();
    if (res.affected !== 1) throw bad();
    return Number(company);
  }

  private async storeAuthorization(companyId: number, realmId: string, t: QuickBooksTokenSet): Promise<void> {
    const now = new Date();
    await this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(Connection);
      const row =
        (await repo.findOneBy({ companyId, provider: 'quickbooks' })) ??
        repo.create({ companyId, provider: 'quickbooks', createdAt: now });
      row.settings = JSON.stringify({
        realmId,
        environment: this.config.accounting.quickbooks.environment,
      } satisfies QuickBooksSettings);
      row.secrets = this.secrets.seal(row, {
        accessToken: t.accessToken,
        refreshToken: t.refreshToken!,
      } satisfies QuickBooksSecrets);
      row.accessTokenExpiresAt = new Date(now.getTime() + t.expiresIn * 1000);
      row.refreshTokenExpiresAt =
        t.refreshExpiresIn !== null ? new Date(now.getTime() + t.refreshExpiresIn * 1000) : null;
      row.status = 'ok';
      row.statusReason = null;
      row.lastRefreshedAt = now;
      row.updatedAt = now;
      await repo.save(row);
    });
  }
}

/** A connection as the API shows it: never its secrets. */
export function view(companyId: number, provider: ConnectionProvider, row: Connection | undefined): ConnectionView {
  if (!row)
    return {
      company_id: companyId,
      provider,
      connected: false,
      status: null,
      status_reason: null,
      settings: null,
      access_token_expires_at: null,
      refresh_token_expires_at: null,
      refresh_token_days_left: null,
      last_refreshed_at: null,
      updated_at: null,
    };
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  const raw = JSON.parse(row.settings) as Partial<QuickBooksSettings & DevposSettings>;
  const refreshExpires = row.refreshTokenExpiresAt ? new Date(row.refreshTokenExpiresAt) : null;
  return {
    company_id: companyId,
    provider,
    connected: true,
    status: row.status,
    status_reason: row.statusReason,
    settings:
      provider === 'quickbooks'
        ? { realm_id: raw.realmId ?? '', environment: raw.environment ?? 'sandbox' }
        : { username: raw.username ?? '', tenant: raw.tenant ?? '', tracks_vat: raw.tracksVat ?? false },
    access_token_expires_at: iso(row.accessTokenExpiresAt),
    refresh_token_expires_at: iso(refreshExpires),
    refresh_token_days_left: refreshExpires ? Math.floor((refreshExpires.getTime() - Date.now()) / DAY_MS) : null,
    last_refreshed_at: iso(row.lastRefreshedAt),
    updated_at: iso(row.updatedAt),
  };
}
