import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One sealed known value per app that stores secrets: opening it at start proves SECRETS_KEY is the key the stored
 * secrets were sealed with, so a wrong key stops the process at once rather than failing runs one by one later.
 */
@Entity({ name: 'secret_key_checks' })
export class SecretKeyCheck {
  @PrimaryColumn({ type: 'varchar', length: 64 }) owner: string;
  @Column({ type: 'text' }) sealed: string;
  @Column({ name: 'created_at', type: 'datetime' }) createdAt: Date;
}
