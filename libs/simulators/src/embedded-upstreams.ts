import { DateTime } from 'luxon';
import { DevposSimulator } from './devpos/devpos-simulator';
import { DEVPOS_ZONE } from './devpos/document-generator';
import { QuickBooksSimulator } from './quickbooks/quickbooks-simulator';
import { QBO_SEED } from './quickbooks/qbo-store';
import { CpExportSimulator } from './cp-export/cp-export-simulator';
import { RobawsSimulator } from './robaws/robaws-simulator';
import { SplynxSimulator } from './splynx/splynx-simulator';
import { EmbeddedVpnPanels, startEmbeddedVpnPanels } from './vpn/embedded-panels';

export interface EmbeddedUpstreams {
  /** Environment additions that point the sync apps at the simulators. */
  env: Record<string, string>;
  /** Which upstreams are simulated, for the start-up banner. */
  simulated: { splynx: boolean; quickbooks: boolean; devpos: boolean; robaws: boolean; cpExport: boolean };
  /** The VPN panel simulators and the usage data to seed on them (`vpnPanels: true`); null otherwise. */
  vpnPanels: EmbeddedVpnPanels | null;
  stop(): Promise<void>;
}

/**
 * For the embedded mode and the CLI without a configured upstream: starts the simulators on loopback, seeded with
 * demo data, and says how to reach them. An upstream whose configuration is given is left alone. QuickBooks and
 * DevPos come with company 1 connected (QBO_REALM_ID + QBO_REFRESH_TOKEN, DEVPOS_TENANT + DEVPOS_USERNAME +
 * DEVPOS_PASSWORD), so a first look shows accounting working; the simulators start empty each time, so that
 * connection is made again at each start. DevPos holds the default tenant's documents of the last 30 days (the same
 * ones at every start, the seed being fixed), so there is something to sync.
 */
export async function startEmbeddedUpstreams(opts: {
  splynxUrlConfigured: boolean;
  splynxCustomers: number;
  /** QBO_CLIENT_ID is set: QuickBooks is real. */
  quickbooksConfigured?: boolean;
  /** DEVPOS_AUTH_BASIC is set: DevPos is real. */
  devposConfigured?: boolean;
  /** ROBAWS_URL is set: Robaws is real. */
  robawsConfigured?: boolean;
  /** CP_EXPORT_URL is set: the loyalty-club export is real. */
  cpExportConfigured?: boolean;
  /** The hub's own port: the simulated Intuit app registers its /oauth/quickbooks/callback. */
  hubPort?: number;
  /** Start a simulator of each VPN panel type for the usage sync (the embedded host seeds its panels on them). */
  vpnPanels?: boolean;
}): Promise<EmbeddedUpstreams> {
  const env: Record<string, string> = {};
  const stops: Array<() => Promise<void>> = [];
  if (!opts.splynxUrlConfigured) {
    const splynx = new SplynxSimulator({ customers: opts.splynxCustomers });
    env.SPLYNX_URL = await splynx.start();
    env.SPLYNX_API_KEY = splynx.apiKey;
    env.SPLYNX_API_SECRET = splynx.apiSecret;
    stops.push(() => splynx.stop());
  }
  if (opts.quickbooksConfigured === false) {
    const qbo = new QuickBooksSimulator({
      redirectUri: `http://localhost:${opts.hubPort ?? 3000}/oauth/quickbooks/callback`,
    });
    await qbo.start();
    const { realmId, refreshToken } = qbo.connect();
    Object.assign(env, {
      QBO_CLIENT_ID: qbo.clientId,
      QBO_CLIENT_SECRET: qbo.clientSecret,
      QBO_REDIRECT_URI: qbo.redirectUri,
      QBO_AUTH_URL: qbo.urls.authorize,
      QBO_TOKEN_URL: qbo.urls.token,
      QBO_REVOKE_URL: qbo.urls.revoke,
      QBO_API_BASE: qbo.urls.api.replace(/\/v3\/company$/, ''),
      QBO_REALM_ID: realmId,
      QBO_REFRESH_TOKEN: refreshToken,
      // The simulated company's seeded income item and expense account, for the document lines.
      QBO_DEFAULT_INCOME_ITEM_ID: QBO_SEED.salesItem,
      QBO_DEFAULT_EXPENSE_ACCOUNT_ID: QBO_SEED.expenseAccount,
    });
    stops.push(() => qbo.stop());
  }
  if (opts.devposConfigured === false) {
    const devpos = new DevposSimulator();
    const url = await devpos.start();
    const user = devpos.users[0];
    // The last 30 local days of documents (3 sales and 2 purchases a day), so a first start has something to sync.
    const today = DateTime.now().setZone(DEVPOS_ZONE);
    devpos.generate(user.tenant, {
      from: today.minus({ days: 29 }).toISODate()!,
      to: today.toISODate()!,
      salesPerDay: 3,
      purchasesPerDay: 2,
    });
    Object.assign(env, {
      DEVPOS_URL: url,
      DEVPOS_AUTH_BASIC: Buffer.from(`${devpos.clientId}:`).toString('base64'),
      DEVPOS_TENANT: user.tenant,
      DEVPOS_USERNAME: user.username,
      DEVPOS_PASSWORD: user.password,
    });
    stops.push(() => devpos.stop());
  }
  if (opts.robawsConfigured === false) {
    // Robaws with its seeded clients (3,000, messy phones and VAT numbers in several countries) and its real rate limit.
    const robaws = new RobawsSimulator();
    Object.assign(env, {
      ROBAWS_URL: await robaws.start(),
      ROBAWS_API_KEY: robaws.apiKey,
      ROBAWS_API_SECRET: robaws.apiSecret,
    });
    stops.push(() => robaws.stop());
  }
  if (opts.cpExportConfigured === false) {
    // The loyalty-club export with 200 rows in each of its seven tables (the same ones at every start) and its visit link.
    const cp = new CpExportSimulator();
    await cp.start();
    Object.assign(env, { CP_EXPORT_URL: cp.exportUrl, CP_VISIT_URL: cp.visitUrl, CP_EXPORT_TOKEN: cp.token });
    stops.push(() => cp.stop());
  }
  let vpnPanels: EmbeddedVpnPanels | null = null;
  if (opts.vpnPanels) {
    // Panels live in the database (issue 13), not in the environment: the host seeds them and points them here.
    const started = await startEmbeddedVpnPanels();
    vpnPanels = started;
    stops.push(() => started.stop());
  }
  return {
    env,
    simulated: {
      splynx: !opts.splynxUrlConfigured,
      quickbooks: opts.quickbooksConfigured === false,
      devpos: opts.devposConfigured === false,
      robaws: opts.robawsConfigured === false,
      cpExport: opts.cpExportConfigured === false,
    },
    vpnPanels,
    stop: async () => void (await Promise.all(stops.map((s) => s()))),
  };
}
