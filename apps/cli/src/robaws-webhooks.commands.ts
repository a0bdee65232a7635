import { AppConfig } from '@sync-hub/config';
import { ROBAWS_CLIENT_WEBHOOK_EVENTS } from '@sync-hub/contracts';
import { UpstreamHttpError } from '@sync-hub/http';
import {
  dataSourceOptions,
  resolveSecretsKey,
  RobawsWebhookEndpointRow,
  sealWebhookSecret,
  SecretBox,
  SecretKeyCheck,
  verifySecretsKey,
} from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { RobawsApiClient } from '../../crm-sync/src';
import { textTable } from './table';
import { UsageError } from './usage-error';

/** The owner of the SECRETS_KEY check value for the stored webhook secrets (secret_key_checks). */
const SECRETS_OWNER = 'robaws-webhooks';

/**
 * The webhook commands read and write `robaws_webhook_endpoints` on DATABASE_URL, which the gateway reads. The
 * embedded mode's SQLite database lives in the running hub's memory and is written out whole on each change, so a
 * row stored from here would be lost: there, ROBAWS_WEBHOOK_SECRET is the way.
 */
function assertSharedDatabase(config: AppConfig): void {
  if (config.database.kind === 'sqlite')
    throw new UsageError(
      "the Robaws webhook commands need the deployment's MySQL/MariaDB (DATABASE_URL): the embedded mode's SQLite database lives in the running hub's memory. In the embedded mode set ROBAWS_WEBHOOK_SECRET to the endpoint's secret instead",
    );
}

async function withRobaws<T>(
  config: AppConfig,
  fn: (robaws: RobawsApiClient, db: DataSource) => Promise<T>,
): Promise<T> {
  assertSharedDatabase(config);
  const db = new DataSource({
    ...dataSourceOptions(config.database),
    entities: [RobawsWebhookEndpointRow, SecretKeyCheck],
  });
  await db.initialize();
  const robaws = new RobawsApiClient(config.crm.robaws, config.http);
  try {
    return await fn(robaws, db);
  } finally {
    await robaws.close();
    await db.destroy();
  }
}

/** An absolute http(s) URL Robaws can post to, or a usage error. */
export function webhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url must be an absolute URL such as https://hub.example.com/api/webhooks/robaws/customers`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--url must be an http(s) URL');
  if (url.username || url.password) throw new UsageError('--url must not carry credentials');
  return url.toString();
}

/**
 * `robaws:webhooks:register --url=`: creates an endpoint for client.created and client.updated in Robaws and stores
 * its secret sealed with SECRETS_KEY (Robaws shows it this once). Prints the id, never the secret. SECRETS_KEY is
 * checked before anything is created; if storing fails, the endpoint is deleted again rather than left unverifiable.
 */
export async function robawsWebhooksRegister(config: AppConfig, rawUrl: string): Promise<string> {
  const url = webhookUrl(rawUrl);
  assertSharedDatabase(config);
  const box = new SecretBox(resolveSecretsKey(config));
  return withRobaws(config, async (robaws, db) => {
    await verifySecretsKey(db, box, SECRETS_OWNER);
    const events = [...ROBAWS_CLIENT_WEBHOOK_EVENTS];
    const endpoint = await robaws.createWebhookEndpoint(url, events);
    try {
      if (typeof endpoint.secret !== 'string' || endpoint.secret === '')
        throw new Error(`Robaws created endpoint ${endpoint.id} without returning its secret`);
      await db.getRepository(RobawsWebhookEndpointRow).insert({
        endpointId: endpoint.id,
        url: endpoint.url ?? url,
        events: (endpoint.events ?? events).join(','),
        secretSealed: sealWebhookSecret(box, endpoint.id, endpoint.secret),
        createdAt: new Date(),
      });
    } catch (err) {
      await robaws.deleteWebhookEndpoint(endpoint.id).catch(() => undefined);
      throw new Error(
        `the endpoint could not be stored, so it was deleted in Robaws again: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return [
      `registered Robaws webhook endpoint ${endpoint.id}`,
      `  url     ${endpoint.url ?? url}`,
      `  events  ${(endpoint.events ?? events).join(', ')}`,
      '  secret  stored encrypted (SECRETS_KEY); the gateway checks deliveries with it',
      '',
    ].join('\n');
  });
}

/** `robaws:webhooks:list`: Robaws's endpoints, marking those whose secret is stored here; stored rows Robaws lacks too. */
export async function robawsWebhooksList(config: AppConfig): Promise<string> {
  return withRobaws(config, async (robaws, db) => {
    const remote = await robaws.listWebhookEndpoints();
    const stored = await db.getRepository(RobawsWebhookEndpointRow).find({ order: { createdAt: 'ASC' } });
    const storedIds = new Set(stored.map((s) => s.endpointId));
    const remoteIds = new Set(remote.map((r) => r.id));
    const rows = remote.map((e) => [
      e.id,
      e.url,
      (e.events ?? []).join(','),
      e.createdAt ?? '-',
      storedIds.has(e.id) ? 'yes' : 'no',
    ]);
    for (const s of stored)
      if (!remoteIds.has(s.endpointId))
        rows.push([s.endpointId, s.url, s.events, s.createdAt.toISOString(), 'yes (not in Robaws)']);
    if (rows.length === 0) return 'no Robaws webhook endpoints (register one with robaws:webhooks:register --url=)\n';
    return textTable(['id', 'url', 'events', 'created', 'secret stored'], rows);
  });
}

/** `robaws:webhooks:delete --id=`: deletes the endpoint in Robaws and its stored secret; unknown to both: usage error. */
export async function robawsWebhooksDelete(config: AppConfig, id: string): Promise<string> {
  if (!/^[\w-]{1,64}$/.test(id)) throw new UsageError('--id must be a webhook endpoint id (letters, digits, - and _)');
  return withRobaws(config, async (robaws, db) => {
    let inRobaws = true;
    try {
      await robaws.deleteWebhookEndpoint(id);
    } catch (err) {
      if (!(err instanceof UpstreamHttpError && err.status === 404)) throw err;
      inRobaws = false;
    }
    const { affected } = await db.getRepository(RobawsWebhookEndpointRow).delete({ endpointId: id });
    const storedRow = (affected ?? 0) > 0;
    if (!inRobaws && !storedRow)
      throw new UsageError(`no Robaws webhook endpoint ${id} (robaws:webhooks:list shows the endpoints)`);
    return `deleted Robaws webhook endpoint ${id}: ${inRobaws ? 'in Robaws' : 'not in Robaws any more'}, ${storedRow ? 'stored secret removed' : 'no stored secret'}\n`;
  });
}
