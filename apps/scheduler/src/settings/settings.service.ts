import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { SettingView } from '@sync-hub/contracts';
import { Repository } from 'typeorm';
import { Setting } from './setting.entity';

export const USAGE_INTERVAL_SETTING = 'reseller.usage_sync_interval_minutes';

interface SettingDefinition {
  default: number;
  /** The value the system acts on, from whatever was stored. */
  effective(value: unknown): number;
}

/** Integer settings: an integer (or integer text) is clamped; anything else falls back to the default. */
function clampedInteger(dflt: number, min: number, max: number): SettingDefinition {
  return {
    default: dflt,
    effective(value: unknown): number {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)
            ? Number(value)
            : NaN;
      return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : dflt;
    },
  };
}

/** The settings the hub knows (DESIGN.md section 4). */
export const SETTINGS: Record<string, SettingDefinition> = {
  // seed 004: every N minutes, N in [1, 5], default 5
  [USAGE_INTERVAL_SETTING]: clampedInteger(5, 1, 5),
  // issue 4: pause a schedule after N consecutive failures
  'notifications.auto_pause_after': clampedInteger(10, 1, 1000),
};

/** Something that depends on a setting and follows its changes (schedules whose interval comes from it). */
export type SettingChangeListener = (key: string) => Promise<void>;

export class UnknownSettingError extends NotFoundException {
  constructor(key: string) {
    super(`unknown setting ${key}; known: ${Object.keys(SETTINGS).join(', ')}`);
  }
}

/** Runtime settings, read fresh on every use so a change applies without a restart. */
@Injectable()
export class SettingsService {
  private readonly listeners: SettingChangeListener[] = [];

  constructor(@InjectRepository(Setting) private readonly settings: Repository<Setting>) {}

  /** Settings know nothing of what reads them: dependants register here and are awaited on every `set`. */
  onChange(listener: SettingChangeListener): void {
    this.listeners.push(listener);
  }

  async get(key: string): Promise<SettingView> {
    const def = SETTINGS[key];
    if (!def) throw new UnknownSettingError(key);
    const row = await this.settings.findOneBy({ key });
    const value: unknown = row ? JSON.parse(row.value) : def.default;
    return { key, value, effective_value: def.effective(value) };
  }

  async set(key: string, value: unknown, now = new Date()): Promise<SettingView> {
    const def = SETTINGS[key];
    if (!def) throw new UnknownSettingError(key);
    await this.settings.upsert({ key, value: JSON.stringify(value), updatedAt: now }, ['key']);
    for (const listener of this.listeners) await listener(key);
    return { key, value, effective_value: def.effective(value) };
  }

  async effective(key: string): Promise<number> {
    return (await this.get(key)).effective_value;
  }
}
