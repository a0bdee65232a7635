import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { SettingChangedPayload } from '@sync-hub/contracts';
import { Repository } from 'typeorm';
import { SettingProjection } from './setting-projection.entity';

/**
 * The gateway's projection of the scheduler's settings, from the compacted `scheduler.setting.changed.v1`, applied in
 * the order they arrive as the schedule projection is (each message carries the whole setting). The scheduler's leader
 * republishes every known setting, defaults included, when it starts leading.
 */
@Injectable()
export class SettingProjectionService {
  constructor(@InjectRepository(SettingProjection) private readonly projections: Repository<SettingProjection>) {}

  /** Applies a setting's state, received as of `occurredAt`. */
  async apply(s: SettingChangedPayload, occurredAt: Date): Promise<void> {
    await this.projections.save(
      this.projections.create({
        key: s.key,
        value: JSON.stringify(s.value ?? null),
        effectiveValue: s.effectiveValue,
        updatedAt: occurredAt,
      }),
    );
  }

  /** A tombstone (the scheduler sends none today): the setting is back to its default. */
  async remove(key: string): Promise<void> {
    await this.projections.delete({ key });
  }

  /** The setting's effective value, or `fallback` until the scheduler has published it. */
  async effective(key: string, fallback: number): Promise<number> {
    return (await this.projections.findOneBy({ key }))?.effectiveValue ?? fallback;
  }
}
