import type { ConnectionProvider, ConnectionStatus } from '@sync-hub/contracts';
import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** What `settings` holds (JSON, not secret) per provider. */
export interface QuickBooksSettings {
  realmId: string;
  environment: 'sandbox' | 'production';
  /** Set when the connection came from QBO_REALM_ID + QBO_REFRESH_TOKEN: an HMAC of them (see ConnectionsService). */
  seed?: string;
}
export interface DevposSettings {
  username: string;
  tenant: string;
  tracksVat: boolean;
  /** Set when the login came from the DEVPOS_* settings: an HMAC of them. */
  seed?: string;
}

/** What `secrets` holds, sealed with SECRETS_KEY (never logged, never answered). */
export interface QuickBooksSecrets {
  accessToken: string | null;
  refreshToken: string;
}
export interface DevposSecrets {
  password: string;
  accessToken: string | null;
}

/**
 * A company's connection to QuickBooks or DevPos (owned by accounting-sync). `secrets` is one AES-256-GCM value bound
 * to (company, provider); the expiries and status are plain so the API and the dashboard can show them.
 */
@Entity('connections')
@Unique('uq_connections_company_provider', ['companyId', 'provider'])
export class Connection {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ name: 'company_id', type: 'int' })
  companyId: number;

  @Column({ type: 'varchar', length: 16 })
  provider: ConnectionProvider;

  @Column({ type: 'text' })
  settings: string;

  @Column({ type: 'text' })
  secrets: string;

  @Column({ name: 'access_token_expires_at', type: 'datetime', precision: 3, nullable: true })
  accessTokenExpiresAt: Date | null;

  @Column({ name: 'refresh_token_expires_at', type: 'datetime', precision: 3, nullable: true })
  refreshTokenExpiresAt: Date | null;

  @Column({ type: 'varchar', length: 20 })
  status: ConnectionStatus;

  @Column({ name: 'status_reason', type: 'varchar', length: 1000, nullable: true })
  statusReason: string | null;

  @Column({ name: 'last_refreshed_at', type: 'datetime', precision: 3, nullable: true })
  lastRefreshedAt: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
