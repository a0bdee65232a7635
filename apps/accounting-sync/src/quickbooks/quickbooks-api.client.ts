import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ResilientHttpClient, UpstreamHttpError } from '@sync-hub/http';
import { asQuickBooksFault, QuickBooksFault, QuickBooksFaultError, readFault } from './quickbooks-fault';

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
      // Intuit allows 10 concurrent requests per realm and app.
      maxConcurrency: Math.min(config.http.maxConcurrency, 10),
      // A 429 carries no Retry-After; Intuit asks for 60 s (QBO_RATE_LIMIT_WAIT_SECONDS).
      rateLimitedWaitMs: config.accounting.quickbooks.rateLimitWaitMs,
      // A throttle storm is waited out (up to ten more waits), never a failed run.
      rateLimitedRounds: 10,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.http.close();
  }

  async get<T>(realmId: string, path: string, accessToken: string, query: Record<string, string> = {}): Promise<T> {
    return this.send<T>('GET', realmId, path, accessToken, query);
  }

  /** POST JSON; `requestid` (at most 50 characters) makes a retried create or update answer as the first one did. */
  async post<T>(
    realmId: string,
    path: string,
    accessToken: string,
    body: unknown,
    query: Record<string, string> = {},
  ): Promise<T> {
    return this.send<T>('POST', realmId, path, accessToken, query, body);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    realmId: string,
    path: string,
    accessToken: string,
    query: Record<string, string>,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    try {
      const res = await this.http.request<T>({
        method,
        path: `/v3/company/${encodeURIComponent(realmId)}/${path}`,
        query: { ...query, minorversion: MINOR_VERSION },
        headers: { ...headers, authorization: `Bearer ${accessToken}` },
        body,
      });
      return res.body;
    } catch (err) {
      throw asQuickBooksFault(err);
    }
  }

  /** A query in QuickBooks' language; the rows of `entity` (none: an empty list). */
  async query<T>(realmId: string, accessToken: string, entity: string, sql: string): Promise<T[]> {
    const body = await this.get<{ QueryResponse?: Record<string, unknown> }>(realmId, 'query', accessToken, {
      query: sql,
    });
    const rows = body.QueryResponse?.[entity];
    return Array.isArray(rows) ? (rows as T[]) : [];
  }

  /** Creates an entity (`Invoice`, `Customer`, …) and answers it as QuickBooks stored it (Id, SyncToken). */
  async create<T>(realmId: string, accessToken: string, entity: string, body: object, requestId: string): Promise<T> {
    const answer = await this.post<Record<string, T>>(realmId, entity.toLowerCase(), accessToken, body, {
      requestid: requestId,
    });
    return answer[entity];
  }

  async read<T>(realmId: string, accessToken: string, entity: string, id: string): Promise<T> {
    const answer = await this.get<Record<string, T>>(
      realmId,
      `${entity.toLowerCase()}/${encodeURIComponent(id)}`,
      accessToken,
    );
    return answer[entity];
  }

  /** A sparse update: only the fields given change; `Id` and the current `SyncToken` are required. */
  async update<T>(realmId: string, accessToken: string, entity: string, body: object, requestId: string): Promise<T> {
    const answer = await this.post<Record<string, T>>(
      realmId,
      entity.toLowerCase(),
      accessToken,
      { ...body, sparse: true },
      { operation: 'update', requestid: requestId },
    );
    return answer[entity];
  }

  /**
   * Up to 30 creates in one request; each item is answered on its own: the entity, or that item's Fault. The whole
   * batch carries a requestid too, so a retried batch is answered as the first.
   */
  async batchCreate<T>(
    realmId: string,
    accessToken: string,
    items: Array<{ bId: string; entity: string; body: object }>,
    requestId: string,
  ): Promise<Map<string, { entity: T } | { fault: QuickBooksFaultError[] }>> {
    if (items.length > 30) throw new Error('a QuickBooks batch holds at most 30 items');
    const answer = await this.post<{ BatchItemResponse?: Array<Record<string, unknown>> }>(
      realmId,
      'batch',
      accessToken,
      { BatchItemRequest: items.map((i) => ({ bId: i.bId, operation: 'create', [i.entity]: i.body })) },
      { requestid: requestId },
    );
    const out = new Map<string, { entity: T } | { fault: QuickBooksFaultError[] }>();
    for (const r of answer.BatchItemResponse ?? []) {
      const bId = String(r.bId);
      const item = items.find((i) => i.bId === bId);
      const fault = readFault(r);
      if (fault) out.set(bId, { fault: fault.errors });
      else if (item && r[item.entity]) out.set(bId, { entity: r[item.entity] as T });
    }
    return out;
  }

  /**
   * Attaches files to entities through Intuit's multipart `/upload`, several in one request: per file `NN` (01, 02, …)
   * a `file_metadata_NN` part (the Attachable, as JSON, with its AttachableRef) and a `file_content_NN` part (the
   * file). The multipart body is encoded by the platform's FormData. A file name may not contain `/`. The answer is
   * per file, in order: its Attachable, or its own fault. A fault of the whole request (400, 5xx after retries) throws.
   * The requestid makes a retried upload answer the first.
   */
  async uploadMany(
    realmId: string,
    accessToken: string,
    files: Array<{
      fileName: string;
      contentType: string;
      content: Uint8Array<ArrayBuffer>;
      ref: { entity: string; id: string };
    }>,
    requestId: string,
  ): Promise<Array<{ attachable: { Id: string } } | { fault: QuickBooksFault }>> {
    if (files.length === 0 || files.length > 99) throw new Error('an upload carries 1 to 99 files');
    const form = new FormData();
    files.forEach((file, i) => {
      if (file.fileName.includes('/'))
        throw new Error(`a QuickBooks attachment's file name may not contain "/": ${file.fileName}`);
      const nn = String(i + 1).padStart(2, '0');
      const meta = {
        AttachableRef: [{ EntityRef: { type: file.ref.entity, value: file.ref.id }, IncludeOnSend: false }],
        FileName: file.fileName,
        ContentType: file.contentType,
      };
      form.append(`file_metadata_${nn}`, new Blob([JSON.stringify(meta)], { type: 'application/json' }), `${nn}.json`);
      form.append(`file_content_${nn}`, new Blob([file.content], { type: file.contentType }), file.fileName);
    });
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    const answer = await this.send<{ AttachableResponse?: Array<{ Attachable?: { Id: string } }> }>(
      'POST',
      realmId,
      'upload',
      accessToken,
      { requestid: requestId },
      body,
      { 'content-type': encoded.headers.get('content-type') ?? 'multipart/form-data' },
    );
    return files.map((_, i) => {
      const one = answer.AttachableResponse?.[i];
      const fault = one ? readFault(one) : null;
      if (fault) return { fault: new QuickBooksFault(400, fault.type, fault.errors, null) };
      if (!one?.Attachable?.Id)
        return {
          fault: new QuickBooksFault(
            502,
            'SystemFault',
            [{ code: '', message: 'QuickBooks answered no Attachable for this file', detail: '', element: null }],
            null,
          ),
        };
      return { attachable: one.Attachable };
    });
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
  return (err instanceof UpstreamHttpError || err instanceof QuickBooksFault) && err.status === 401;
}
