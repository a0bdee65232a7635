import { Column, Entity, PrimaryGeneratedColumn, ValueTransformer } from 'typeorm';

/** The panel types seed 004 syncs from (upstream-apis.md section 4). */
export const PANEL_TYPES = ['eylandoo', 'marzban', 'marzneshin', '3x-ui'] as const;
export type PanelType = (typeof PANEL_TYPES)[number];

/** BIGINT columns as numbers (MariaDB answers them as strings): byte counts stay far below 2^53. */
const bigint: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

@Entity('resellers')
export class Reseller {
  @PrimaryGeneratedColumn() id: number;
  @Column({ type: 'varchar', length: 255 }) name: string;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
}

/** What a panel is logged in with: sealed at rest, never answered by the API. */
export interface PanelCredentials {
  username?: string;
  password?: string;
  apiKey?: string;
  apiToken?: string;
}

@Entity('panels')
export class Panel {
  @PrimaryGeneratedColumn() id: number;
  @Column({ type: 'varchar', length: 255 }) name: string;
  @Column({ type: 'varchar', length: 16 }) type: PanelType;
  @Column({ type: 'varchar', length: 2048 }) url: string;
  /** PanelCredentials as JSON, sealed with SECRETS_KEY and bound to the panel's id. */
  @Column({ name: 'credentials_sealed', type: 'text', nullable: true }) credentialsSealed: string | null;
  /** Per-type options (Eylandoo's paths, the 3x-ui route generation), as JSON. */
  @Column({ type: 'simple-json', nullable: true }) settings: Record<string, unknown> | null;
  @Column({ name: 'max_concurrency', type: 'int', default: 8 }) maxConcurrency: number;
  @Column({ name: 'requests_per_second', type: 'int', nullable: true }) requestsPerSecond: number | null;
  @Column({ type: 'boolean', default: true }) active: boolean;
  @Column({ name: 'last_success_at', type: 'datetime', precision: 3, nullable: true }) lastSuccessAt: Date | null;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @Column({ name: 'last_error_at', type: 'datetime', precision: 3, nullable: true }) lastErrorAt: Date | null;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
}

@Entity('reseller_configs')
export class ResellerConfig {
  @PrimaryGeneratedColumn() id: number;
  @Column({ name: 'reseller_id', type: 'int' }) resellerId: number;
  @Column({ name: 'panel_id', type: 'int' }) panelId: number;
  @Column({ name: 'panel_user_id', type: 'varchar', length: 255, nullable: true }) panelUserId: string | null;
  @Column({ name: 'external_username', type: 'varchar', length: 255 }) externalUsername: string;
  @Column({ type: 'varchar', length: 32, default: 'active' }) status: string;
  @Column({ name: 'usage_bytes', type: 'bigint', default: 0, transformer: bigint }) usageBytes: number;
  @Column({ name: 'traffic_limit_bytes', type: 'bigint', nullable: true, transformer: bigint })
  trafficLimitBytes: number | null;
  @Column({ name: 'usage_synced_at', type: 'datetime', precision: 3, nullable: true }) usageSyncedAt: Date | null;
  @Column({ name: 'last_usage_error', type: 'text', nullable: true }) lastUsageError: string | null;
  @Column({ name: 'last_usage_error_at', type: 'datetime', precision: 3, nullable: true })
  lastUsageErrorAt: Date | null;
  /** The traffic-limit level last announced (0, 80, 100): a crossing is announced once, again only after a drop. */
  @Column({ name: 'limit_alert_percent', type: 'int', default: 0 }) limitAlertPercent: number;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt: Date;
}

export const USAGE_ENTITIES = [Reseller, Panel, ResellerConfig];
