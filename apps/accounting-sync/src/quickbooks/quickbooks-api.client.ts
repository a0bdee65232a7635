import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ResilientHttpClient, UpstreamHttpError } from '@sync-hub/http';

const MINOR_VERSION = '75';

/**
 * The QuickBooks Online Accounting API v3 under QBO_API_BASE (`/v3/company/{realmId}/…`, JSON, minorversion 75).
 * Part 1 needs only CompanyInfo (a connection's health check); part 2 adds the documents. Callers go through
 * QuickBooksTokens.withQuickBooks, which supplies a fresh token and handles a 401.
 */
@Injectable()
export class QuickBooksApiClient implements OnApplicationShutdown {
  private readonly http: ResilientHttpClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.http = new ResilientHttpClient({
      name: 'quickbooks',
      baseUrl: config.accounting.quickbooks.apiBase,
      timeoutMs: config.http.timeoutMs,
      retries: config.http.retries,
      retryBaseDelayMs: config.http.retryBaseDelayMs,
      maxConcurrency: Math.min(config.http.maxConcurrency, 10),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.http.close();
  }

  async get<T>(realmId: string, path: string, accessToken: string): Promise<T> {
    const res = await this.http.request<T>({
      method: 'GET',
      path: `/v3/company/${encodeURIComponent(realmId)}/${path}`,
      query: { minorversion: MINOR_VERSION },
      headers: { authorization: `Bearer ${accessToken}` },
    });
    return res.body;
  }

  /** The company's name as QuickBooks knows it: proves the token and the realm. */
  async companyName(realmId: string, accessToken: string): Promise<string> {
    const body = await this.get<{ CompanyInfo?: { CompanyName?: string } }>(
      realmId,
      `companyinfo/${encodeURIComponent(realmId)}`,
      accessToken,
    );
    return body.CompanyInfo?.CompanyName ?? '';
  }
}

/** A 401 from the API: the access token was refused (expired early, or revoked). */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof UpstreamHttpError && err.status === 401;
}
