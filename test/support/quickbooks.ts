import { QBO_PATHS, QuickBooksSimulator, SimRequest, SimResponse } from '@sync-hub/simulators';

/**
 * The real QuickBooks simulator, observed at its edge: it keeps every token it hands out, so a test can look for them
 * where they must never be (API answers, the CLI's output, logs, the database in plaintext), and counts the token
 * endpoint's requests per realm, so a test that shares the simulator (or a broker whose stray ticks reach its app)
 * can assert on its own company's calls only.
 */
export class ObservedQuickBooks extends QuickBooksSimulator {
  readonly issued: string[] = [];
  /** A code or a refresh token → the realm of the grant it belongs to. */
  private readonly realmOf = new Map<string, string>();
  private readonly tokenRequests = new Map<string, number>();

  override connect(realmId?: string): { realmId: string; refreshToken: string } {
    const grant = super.connect(realmId);
    this.realmOf.set(grant.refreshToken, grant.realmId);
    return grant;
  }

  override async handle(req: SimRequest): Promise<SimResponse> {
    let realm: string | undefined;
    if (req.method === 'POST' && req.path === QBO_PATHS.token && typeof req.body === 'string') {
      const form = new URLSearchParams(req.body);
      realm = this.realmOf.get(form.get('code') ?? form.get('refresh_token') ?? '');
      if (realm) this.tokenRequests.set(realm, (this.tokenRequests.get(realm) ?? 0) + 1);
    }
    const out = await super.handle(req);
    const location = out.headers?.location;
    if (location) {
      const back = new URL(location);
      const code = back.searchParams.get('code');
      const realmId = back.searchParams.get('realmId');
      if (code && realmId) this.realmOf.set(code, realmId);
    }
    const body = out.body as { access_token?: string; refresh_token?: string } | undefined;
    if (body?.access_token) this.issued.push(body.access_token);
    if (body?.refresh_token) {
      this.issued.push(body.refresh_token);
      if (realm) this.realmOf.set(body.refresh_token, realm);
    }
    return out;
  }

  /** Requests to the token endpoint (code exchanges and refreshes, granted or refused) for grants of one realm. */
  tokenCalls(realmId: string): number {
    return this.tokenRequests.get(realmId) ?? 0;
  }
}
