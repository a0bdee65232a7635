/** What one config's sync did (POST /api/usage/configs/:id/sync, `reseller:usage:sync-one`). */
export const USAGE_SYNC_ONE_STATUSES = ['updated', 'unchanged', 'hard_failure', 'skipped'] as const;
export type UsageSyncOneStatus = (typeof USAGE_SYNC_ONE_STATUSES)[number];

/**
 * The diagnostic of one config's sync, snake_case like the rest of the API: the bytes the panel answered (null on a
 * hard failure or a skip), the field they came from, and the stored usage before and after.
 */
export interface UsageSyncOneView {
  config_id: number;
  panel_type: string;
  status: UsageSyncOneStatus;
  fetched_bytes: number | null;
  source_field: string | null;
  previous_bytes: number;
  current_bytes: number;
  delta_bytes: number;
  /** Why the read failed or was skipped; absent otherwise. Never holds a secret. */
  error?: string;
}

export const USAGE_SYNC_ONE_DESCRIPTION =
  '{ config_id, panel_type, status (updated | unchanged | hard_failure | skipped), fetched_bytes (null on a hard failure or a skip), source_field (where the usage came from, e.g. userInfo.total_traffic_bytes; null without a reading), previous_bytes, current_bytes, delta_bytes, error (hard_failure and skipped only) }';
