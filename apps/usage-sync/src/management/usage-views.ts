import { BadRequestException } from '@nestjs/common';
import type { ConfigView, PanelCredentialField, PanelView, ResellerView } from '@sync-hub/contracts';
import type { Panel, PanelCredentials, Reseller, ResellerConfig } from '../model/usage.entities';
import { apiSettings, CREDENTIAL_OF } from './panel-input';

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** Which credential fields are stored, by API name; null when the stored ones do not open. */
export function credentialsSet(credentials: PanelCredentials | null): PanelCredentialField[] | null {
  if (!credentials) return null;
  return (Object.keys(CREDENTIAL_OF) as PanelCredentialField[]).filter((f) => Boolean(credentials[CREDENTIAL_OF[f]]));
}

export function resellerView(row: Reseller, configCount: number): ResellerView {
  return {
    id: row.id,
    name: row.name,
    config_count: configCount,
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
  };
}

/** What the panel's configs say of its health: how many, how many active, how many of those failed their last sync. */
export interface PanelConfigCounts {
  total: number;
  active: number;
  failing: number;
}

export const NO_CONFIGS: PanelConfigCounts = { total: 0, active: 0, failing: 0 };

/** A panel as the API shows it: never a credential's value, only which fields are set. */
export function panelView(
  row: Panel,
  credentials: PanelCredentials | null,
  counts: PanelConfigCounts,
  circuit: PanelView['circuit_state'],
): PanelView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    url: row.url,
    credentials_set: credentialsSet(credentials),
    settings: apiSettings(row.type, row.settings),
    max_concurrency: row.maxConcurrency,
    requests_per_second: row.requestsPerSecond,
    active: Boolean(row.active),
    last_success_at: iso(row.lastSuccessAt),
    last_error: row.lastError,
    last_error_at: iso(row.lastErrorAt),
    config_count: counts.total,
    active_config_count: counts.active,
    failing_config_count: counts.failing,
    error_rate: counts.active ? Math.round((counts.failing / counts.active) * 10_000) / 10_000 : null,
    circuit_state: circuit,
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
  };
}

export function configView(row: ResellerConfig): ConfigView {
  const limit = row.trafficLimitBytes;
  return {
    id: row.id,
    reseller_id: row.resellerId,
    panel_id: row.panelId,
    panel_user_id: row.panelUserId,
    external_username: row.externalUsername,
    status: row.status,
    usage_bytes: row.usageBytes,
    traffic_limit_bytes: limit,
    usage_percent: limit ? Math.round((row.usageBytes / limit) * 10_000) / 100 : null,
    usage_synced_at: iso(row.usageSyncedAt),
    last_usage_error: row.lastUsageError,
    last_usage_error_at: iso(row.lastUsageErrorAt),
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
  };
}

/** Opaque to callers: base64url of the last row's id; the lists are by id. */
export function encodeIdCursor(id: number): string {
  return Buffer.from(`id:${id}`).toString('base64url');
}

/** The id the page continues after, or null when the cursor is not one this API gave out. */
export function decodeIdCursor(cursor: string): number | null {
  const match = /^id:([1-9]\d{0,14})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : null;
}

/** A 400 naming each bad field, in the shape the validation pipe gives (`message` list and `fields`). */
export function badFields(fields: Record<string, string[]>): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: Object.entries(fields).flatMap(([field, reasons]) => reasons.map((r) => `${field}: ${r}`)),
    fields,
  });
}
