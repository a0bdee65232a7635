import { Injectable } from '@nestjs/common';
import { ACCOUNTING_CONNECTIONS_CHECK, ClassifiedError, RunStats } from '@sync-hub/contracts';
import { JobContext, JobHandler, SyncJob } from '@sync-hub/runs';
import { CompanyProjectionService } from '../companies/company-projection.service';
import type { Connection } from '../connections/connection.entity';
import { ConnectionsService } from '../connections/connections.service';
import { DevposTokens } from '../devpos/devpos-tokens.service';
import { QuickBooksApiClient } from '../quickbooks/quickbooks-api.client';
import { QuickBooksTokens } from '../quickbooks/quickbooks-tokens.service';
import { DevposClient } from '../devpos/devpos-client';

const DAY_MS = 86_400_000;
/** A QuickBooks token not refreshed for this long is refreshed by the check, keeping its refresh token rolling. */
export const IDLE_REFRESH_MS = 7 * DAY_MS;
/** A refresh token that expires sooner than this is warned about (a person must reconnect before then). */
export const REFRESH_EXPIRY_WARNING_MS = 14 * DAY_MS;

/**
 * `accounting.connections.check`, daily per company. For QuickBooks: a connection that needs reconnecting fails the
 * run as a `config` error (REAUTH_REQUIRED) without calling Intuit; an idle one is refreshed; one CompanyInfo call
 * proves the token and realm (a 401 forces one refresh and a retry); a refresh token expiring within 14 days is a
 * warning. For DevPos: the login is tried (a cached token is used) with one empty list call. Stats count connections:
 * fetched = checked, updated = refreshed, unchanged = fine as they were.
 */
@Injectable()
@JobHandler(ACCOUNTING_CONNECTIONS_CHECK)
export class ConnectionsCheckJob implements SyncJob {
  constructor(
    private readonly companies: CompanyProjectionService,
    private readonly connections: ConnectionsService,
    private readonly quickbooks: QuickBooksTokens,
    private readonly qboApi: QuickBooksApiClient,
    private readonly devpos: DevposTokens,
    private readonly devposApi: DevposClient,
  ) {}

  async run(ctx: JobContext): Promise<RunStats> {
    const companyId = ctx.tick.companyId;
    const stats: RunStats = { fetched: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
    // A company not known yet is waited for, as document runs do (CompanyProjectionService.awaitKnown).
    const company = await this.companies.awaitKnown(companyId, ctx.signal);
    const rows = (await this.connections.all()).filter((c) => c.companyId === companyId);
    if (!company || !company.active) {
      ctx.warn(
        `company ${companyId} is ${company ? 'inactive' : 'unknown to accounting-sync'}: its connections were not checked`,
      );
      stats.skipped = rows.length;
      return stats;
    }
    if (rows.length === 0) ctx.warn(`company ${companyId} has no QuickBooks or DevPos connection`);
    const fatal: ClassifiedError[] = [];
    for (const row of rows) {
      ctx.signal.throwIfAborted();
      stats.fetched++;
      try {
        if (row.provider === 'quickbooks') await this.checkQuickBooks(ctx, row);
        else await this.checkDevpos(row);
        if (await this.refreshedSince(row)) stats.updated++;
        else stats.unchanged++;
      } catch (err) {
        stats.failed++;
        // A connection that needs a person fails the run (config); the other provider is still checked first.
        if (err instanceof ClassifiedError && err.origin === 'config') fatal.push(err);
        else throw err;
      }
    }
    if (fatal.length > 0) throw fatal[0];
    return stats;
  }

  /** Whether the row's token was renewed during this check (a refresh, a retry after a 401, a new DevPos login). */
  private async refreshedSince(row: Connection): Promise<boolean> {
    const after = await this.connections.find(row.companyId, row.provider);
    const at = (d: Date | null | undefined) => (d ? new Date(d).getTime() : 0);
    return at(after?.lastRefreshedAt) !== at(row.lastRefreshedAt);
  }

  private async checkQuickBooks(ctx: JobContext, row: Connection): Promise<void> {
    const companyId = row.companyId;
    const idle = !row.lastRefreshedAt || Date.now() - new Date(row.lastRefreshedAt).getTime() > IDLE_REFRESH_MS;
    const { info } = await this.quickbooks.tokenWithInfo(companyId, { force: idle });
    await this.quickbooks.withQuickBooks(companyId, (token, realmId) => this.qboApi.companyName(realmId, token));
    const expires = info.refreshTokenExpiresAt;
    if (expires && expires.getTime() - Date.now() < REFRESH_EXPIRY_WARNING_MS) {
      const days = Math.max(0, Math.floor((expires.getTime() - Date.now()) / DAY_MS));
      ctx.warn(
        `company ${companyId}: the QuickBooks refresh token expires in ${days} day(s), on ${expires.toISOString().slice(0, 10)}: reconnect QuickBooks before then`,
      );
    }
  }

  private async checkDevpos(row: Connection): Promise<void> {
    const today = new Date().toISOString().slice(0, 10);
    await this.devpos.withDevpos(row.companyId, (token, tenant) =>
      this.devposApi.get('EInvoice/GetSalesInvoice', token, tenant, { fromDate: today, toDate: today }),
    );
  }
}
