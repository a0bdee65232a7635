import { Column, Entity, PrimaryColumn } from 'typeorm';
import { SecretBox } from './secrets/secret-box';

/**
 * A Robaws webhook endpoint `robaws:webhooks:register` created (migration 24). Robaws shows an endpoint's signing secret
 * once, in the creation answer: it is kept here sealed with SECRETS_KEY, bound to the endpoint id. The gateway opens
 * it to check deliveries; nothing ever prints it.
 */
@Entity('robaws_webhook_endpoints')
export class RobawsWebhookEndpointRow {
  @PrimaryColumn({ name: 'endpoint_id', type: 'varchar', length: 64 }) endpointId: string;
  @Column({ type: 'varchar', length: 2048 }) url: string;
  /** Comma-separated event types, e.g. `client.created,client.updated`. */
  @Column({ type: 'varchar', length: 255 }) events: string;
  @Column({ name: 'secret_sealed', type: 'text' }) secretSealed: string;
  @Column({ name: 'created_at', type: 'datetime' }) createdAt: Date;
}

/** A Robaws webhook delivery id the gateway has accepted: a replay of it (a retry, a capture) does nothing. */
@Entity('robaws_webhook_deliveries')
export class RobawsWebhookDeliveryRow {
  @PrimaryColumn({ name: 'delivery_id', type: 'varchar', length: 64 }) deliveryId: string;
  @Column({ name: 'client_id', type: 'int', nullable: true }) clientId: number | null;
  @Column({ name: 'received_at', type: 'datetime' }) receivedAt: Date;
}

/** The authenticated context a stored endpoint secret is sealed under: it opens for that endpoint's row only. */
function endpointContext(endpointId: string): string {
  return `robaws_webhook_endpoints:${endpointId}`;
}

export function sealWebhookSecret(box: SecretBox, endpointId: string, secret: string): string {
  return box.seal(secret, endpointContext(endpointId));
}

/** Throws SecretDecryptionError (naming SECRETS_KEY, never the value) when the key or the row is not the sealing one. */
export function openWebhookSecret(box: SecretBox, row: Pick<RobawsWebhookEndpointRow, 'endpointId' | 'secretSealed'>) {
  return box.open(row.secretSealed, endpointContext(row.endpointId));
}
