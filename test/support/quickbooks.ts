import { QuickBooksSimulator } from '@sync-hub/simulators';

/**
 * The real QuickBooks simulator, observed at its edge: it keeps every token it hands out, so a test can look for them
 * where they must never be (API answers, the CLI's output, logs, the database in plaintext).
 */
export class ObservedQuickBooks extends QuickBooksSimulator {
  readonly issued: string[] = [];

  override async handle(req: Parameters<QuickBooksSimulator['handle']>[0]) {
    const out = await super.handle(req);
    const body = out.body as { access_token?: string; refresh_token?: string } | undefined;
    if (body?.access_token) this.issued.push(body.access_token);
    if (body?.refresh_token) this.issued.push(body.refresh_token);
    return out;
  }
}
