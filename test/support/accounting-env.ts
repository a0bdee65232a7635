import { DevposSimulator, QuickBooksSimulator } from '@sync-hub/simulators';

/**
 * accounting-sync's environment for the two simulators: the QuickBooks app's keys and URLs, company 1's QuickBooks
 * connection seeded from `seed` (what `qbo.connect()` answered), the simulator's seeded income item (1) and expense
 * account (3), and company 1's DevPos login as the simulator's first user.
 */
export function simulatedAccountingEnv(
  qbo: QuickBooksSimulator,
  seed: { realmId: string; refreshToken: string },
  devpos: DevposSimulator,
  devposUrl: string,
): Record<string, string> {
  const user = devpos.users[0];
  return {
    QBO_CLIENT_ID: qbo.clientId,
    QBO_CLIENT_SECRET: qbo.clientSecret,
    QBO_TOKEN_URL: qbo.urls.token,
    QBO_REVOKE_URL: qbo.urls.revoke,
    QBO_API_BASE: qbo.urls.api.replace(/\/v3\/company$/, ''),
    QBO_REALM_ID: seed.realmId,
    QBO_REFRESH_TOKEN: seed.refreshToken,
    QBO_DEFAULT_INCOME_ITEM_ID: '1',
    QBO_DEFAULT_EXPENSE_ACCOUNT_ID: '3',
    DEVPOS_URL: devposUrl,
    DEVPOS_AUTH_BASIC: Buffer.from(`${devpos.clientId}:`).toString('base64'),
    DEVPOS_TENANT: user.tenant,
    DEVPOS_USERNAME: user.username,
    DEVPOS_PASSWORD: user.password,
  };
}
