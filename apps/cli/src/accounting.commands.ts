import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import type { ConnectionView, DevposConnectionSettings, QuickBooksConnectionSettings } from '@sync-hub/contracts';
import { PlatformModule } from '@sync-hub/platform';
import { Logger } from 'nestjs-pino';
import {
  CompanyProjectionService,
  ConnectionsModule,
  ConnectionsService,
  QuickBooksTokens,
} from '../../accounting-sync/src';
import { textTable } from './table';
import { UsageError } from './usage-error';

/**
 * accounting-sync's companies and connections in this process (no consumer, no jobs), on the deployment's database and
 * SECRETS_KEY: what the CLI reads and writes is what the running accounting-sync sees.
 */
async function withAccounting<T>(config: AppConfig, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  @Module({ imports: [PlatformModule.forConfig(config), ConnectionsModule] })
  class AccountingCliModule {}
  const app = await NestFactory.createApplicationContext(AccountingCliModule, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** The company as accounting-sync knows it, or a usage error listing the companies it does know. */
async function knownCompany(app: INestApplicationContext, companyId: number): Promise<void> {
  const companies = app.get(CompanyProjectionService);
  if (await companies.find(companyId)) return;
  const known = (await companies.all()).map((c) => c.id);
  throw new UsageError(
    `company ${companyId} not found; accounting-sync knows ${known.length ? `companies ${known.join(', ')}` : 'no company yet (the scheduler announces them on scheduler.company.changed.v1)'}`,
  );
}

/**
 * Why `accounting:connect` or `accounting:token` cannot work in this embedded setup, or null. In the embedded mode
 * QuickBooks is simulated inside the running `npm start` unless QBO_CLIENT_ID is set, and a SQLite database (sql.js)
 * lives in that process's memory, written out whole on each change: a state or a rotated token stored by this process
 * would be unknown to the hub and overwritten by its next save. Starting simulators here, as `splynx:sync-users`
 * does, would not help either: a new simulator knows none of the hub's tokens, and its authorize page is gone when
 * the command exits. Reading (`accounting:companies`) works in every setup.
 */
function embeddedQuickBooksProblem(config: AppConfig, what: 'connect' | 'token'): string | null {
  if (config.mode !== 'embedded') return null;
  const simulated = !config.accounting.quickbooks.clientId;
  if (!simulated && config.database.kind !== 'sqlite') return null;
  if (what === 'connect')
    return `in the embedded mode the link must come from the running hub, which receives Intuit's callback${simulated ? ' and runs the simulated QuickBooks' : ' and holds the database'}: open its dashboard (Connections, Connect) or GET /api/companies/<id>/connections/quickbooks/authorize on it`;
  const why = simulated
    ? "QuickBooks is simulated in the embedded mode (QBO_CLIENT_ID is not set): the simulator runs inside `npm start` and starts empty each time, so this process cannot refresh the hub's tokens (a simulator started here would refuse them)"
    : "the embedded mode's SQLite database lives in the running hub's memory: a token refreshed here would be overwritten by the hub's next save, leaving it a superseded refresh token";
  return `${why}. The hub refreshes its tokens itself before use; \`accounting:companies\` shows the stored expiries.${simulated ? ' To use a real QuickBooks app, set QBO_CLIENT_ID, QBO_CLIENT_SECRET and QBO_REDIRECT_URI.' : ''}`;
}

/** Without the app's credentials a refresh cannot work, and trying would mark the connection failing: stop first. */
function assertQuickBooksApp(config: AppConfig): void {
  const qbo = config.accounting.quickbooks;
  if (!qbo.clientId || !qbo.clientSecret)
    throw new UsageError(
      "QBO_CLIENT_ID and QBO_CLIENT_SECRET are not set: run the command with the QuickBooks settings accounting-sync has (QBO_CLIENT_ID, QBO_CLIENT_SECRET, QBO_REDIRECT_URI, and QBO_TOKEN_URL when not Intuit's)",
    );
}

/** `accounting:companies`: every company accounting-sync knows, one row per provider, with status and expiries. */
export function accountingCompanies(config: AppConfig): Promise<string> {
  return withAccounting(config, async (app) => {
    const companies = await app.get(CompanyProjectionService).all();
    if (companies.length === 0)
      return 'no companies yet: accounting-sync learns them from the scheduler (scheduler.company.changed.v1)\n';
    const service = app.get(ConnectionsService);
    const rows: string[][] = [];
    for (const company of companies)
      for (const c of await service.list(company.id))
        rows.push([
          String(company.id),
          company.active ? company.name : `${company.name} (inactive)`,
          c.provider,
          c.connected ? (c.status ?? '') : 'not connected',
          account(c),
          c.access_token_expires_at ?? '-',
          c.refresh_token_expires_at ? `${c.refresh_token_expires_at} (${c.refresh_token_days_left} days)` : '-',
          c.status_reason ?? '',
        ]);
    return textTable(
      ['company', 'name', 'provider', 'status', 'account', 'access token expires', 'refresh token expires', 'reason'],
      rows,
    );
  });
}

function account(c: ConnectionView): string {
  if (!c.settings) return '-';
  if (c.provider === 'quickbooks') {
    const s = c.settings as QuickBooksConnectionSettings;
    return `realm ${s.realm_id} (${s.environment})`;
  }
  const s = c.settings as DevposConnectionSettings;
  return `tenant ${s.tenant}, user ${s.username}`;
}

/** `accounting:connect --company=ID`: Intuit's authorize URL for the company, with a signed one-use state. */
export function accountingConnect(config: AppConfig, companyId: number): Promise<string> {
  const problem = embeddedQuickBooksProblem(config, 'connect');
  if (problem) throw new UsageError(problem);
  return withAccounting(config, async (app) => {
    await knownCompany(app, companyId);
    const { url, expires_at } = await app.get(ConnectionsService).authorize(companyId);
    return [
      `Open this URL in a browser to connect QuickBooks for company ${companyId} (it works once, until ${expires_at}):`,
      url,
      `Intuit then sends the browser to ${config.accounting.quickbooks.redirectUri} (QBO_REDIRECT_URI: the gateway's /oauth/quickbooks/callback).`,
      '',
    ].join('\n');
  });
}

/**
 * `accounting:token --company=ID [--force-refresh]`: the QuickBooks token's realm and expiries through the same
 * lifecycle every job uses (refreshed when due, or when forced, single-flight under the row lock). The token itself is
 * never printed.
 */
export function accountingToken(config: AppConfig, companyId: number, force: boolean): Promise<string> {
  const problem = embeddedQuickBooksProblem(config, 'token');
  if (problem) throw new UsageError(problem);
  assertQuickBooksApp(config);
  return withAccounting(config, async (app) => {
    await knownCompany(app, companyId);
    const { info } = await app.get(QuickBooksTokens).tokenWithInfo(companyId, { force });
    const now = Date.now();
    const when = (d: Date | null) => (d ? `${d.toISOString()} (${relative(d.getTime() - now)})` : '-');
    const rows: Array<[string, string]> = [
      ['realm', info.realmId],
      ['refreshed', info.refreshed ? (force ? 'yes (--force-refresh)' : 'yes (it was due)') : 'no (still valid)'],
      ['access token expires', when(info.accessTokenExpiresAt)],
      ['refresh token expires', when(info.refreshTokenExpiresAt)],
      ['last refreshed', info.lastRefreshedAt ? info.lastRefreshedAt.toISOString() : '-'],
    ];
    return [
      `QuickBooks token of company ${companyId} (never printed)`,
      ...rows.map(([k, v]) => `  ${k.padEnd(22)} ${v}`),
      '',
    ].join('\n');
  });
}

function relative(ms: number): string {
  const abs = Math.abs(ms);
  const words =
    abs >= 2 * 86_400_000
      ? `${Math.floor(abs / 86_400_000)} days`
      : abs >= 2 * 3_600_000
        ? `${Math.floor(abs / 3_600_000)} h`
        : `${Math.floor(abs / 60_000)} min`;
  return ms >= 0 ? `in ${words}` : `${words} ago`;
}
