import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The gateway's copy of one setting, kept from `scheduler.setting.changed.v1` (the scheduler owns `settings`; the
 * gateway never asks it for one).
 */
@Entity('setting_projections')
export class SettingProjection {
  @PrimaryColumn({ type: 'varchar', length: 128 })
  key: string;

  /** JSON of the value as it was set. */
  @Column({ type: 'text' })
  value: string;

  /** The value the system acts on, as the scheduler computed it. */
  @Column({ name: 'effective_value', type: 'int' })
  effectiveValue: number;

  /** `occurredAt` of the event applied last. */
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt: Date;
}
