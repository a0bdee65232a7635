import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { forward, ForwardTarget, queryOf, ServiceAnswer } from '../forwarding';

/** What usage-sync answered, kept as sent so the gateway passes it through unchanged. */
export type UsageAnswer = ServiceAnswer<unknown>;

/** The management routes answer at once; the gateway waits a minute at most for them. */
const TIMEOUT_MS = 60_000;
/**
 * A config's sync answers when it has ended: one read from its panel, usually well under a second, but a panel that
 * is slow, logs in again or times out takes longer, so the gateway waits as long as for a customer's run.
 */
export const CONFIG_SYNC_TIMEOUT_MS = 10 * 60_000;

/** The usage collections usage-sync serves under /api/usage. */
export type UsageCollection = 'resellers' | 'panels' | 'configs';

/**
 * usage-sync's API as the gateway reaches it (`USAGE_SYNC_URL`), with the caller's key: resellers, panels, reseller
 * configs and the sync of one config. usage-sync owns the tables and validates everything; the gateway only carries
 * requests there and answers back. An unreachable usage-sync is a 502 that says so; one that does not answer in time
 * a 504.
 */
@Injectable()
export class UsageClient {
  private readonly target: ForwardTarget;
  /** How long a request may wait for usage-sync's answer, and a config's sync; overridable for tests. */
  timeoutMs = TIMEOUT_MS;
  syncTimeoutMs = CONFIG_SYNC_TIMEOUT_MS;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.target = {
      name: 'usage-sync',
      baseUrl: config.gateway.usageSyncUrl,
      urlVariable: 'USAGE_SYNC_URL',
      serves: 'resellers, panels and reseller configs are served by usage-sync',
      pendingWork: "a config's sync",
      logger: new Logger(UsageClient.name),
    };
  }

  /** GET /api/usage/<collection> with the caller's query string as it came (usage-sync validates it). */
  list(collection: UsageCollection, search: string, authorization?: string): Promise<UsageAnswer> {
    return this.send('GET', `${USAGE}/${collection}${queryOf(search)}`, { authorization });
  }

  /** GET /api/usage/<collection>/:id. */
  get(collection: UsageCollection, id: string, authorization?: string): Promise<UsageAnswer> {
    return this.send('GET', itemPath(collection, id), { authorization });
  }

  /** POST /api/usage/<collection> with the body as the caller sent it. */
  create(collection: UsageCollection, body: unknown, authorization?: string): Promise<UsageAnswer> {
    return this.send('POST', `${USAGE}/${collection}`, { authorization, body: body ?? {} });
  }

  /** PATCH /api/usage/<collection>/:id with the body as the caller sent it. */
  update(collection: UsageCollection, id: string, body: unknown, authorization?: string): Promise<UsageAnswer> {
    return this.send('PATCH', itemPath(collection, id), { authorization, body: body ?? {} });
  }

  /** DELETE /api/usage/<collection>/:id. */
  remove(collection: UsageCollection, id: string, authorization?: string): Promise<UsageAnswer> {
    return this.send('DELETE', itemPath(collection, id), { authorization });
  }

  /** POST /api/usage/configs/:id/sync: answers the diagnostic when the config's sync has ended. */
  syncConfig(id: string, authorization?: string): Promise<UsageAnswer> {
    return this.send('POST', `${itemPath('configs', id)}/sync`, { authorization, timeoutMs: this.syncTimeoutMs });
  }

  private send(
    method: 'GET' | 'PATCH' | 'POST' | 'DELETE',
    path: string,
    opts: { authorization?: string; body?: unknown; timeoutMs?: number },
  ): Promise<UsageAnswer> {
    return forward(this.target, method, path, { ...opts, timeoutMs: opts.timeoutMs ?? this.timeoutMs });
  }
}

const USAGE = '/api/usage';

function itemPath(collection: UsageCollection, id: string): string {
  return `${USAGE}/${collection}/${encodeURIComponent(id)}`;
}
