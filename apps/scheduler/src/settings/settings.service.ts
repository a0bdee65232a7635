import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { settingChangedMessage, SettingView } from '@sync-hub/contracts';
import { ReliablePublisher } from '@sync-hub/messaging';
import { DataSource, Repository } from 'typeorm';
import { lockedQuery, transactionWithEvents } from '../events/transaction-with-events';
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

/**
 * Runtime settings, read fresh on every use so a change applies without a restart. Every change is written with its
 * `scheduler.setting.changed.v1` event in one transaction (the transactional outbox), as schedules are, so other apps
 * (the gateway's auto-pause) keep a projection of settings instead of asking this app.
 */
@Injectable()
export class SettingsService {
  private readonly logger = new Logger(SettingsService.name);
  private readonly listeners: SettingChangeListener[] = [];

  constructor(
    @InjectRepository(Setting) private readonly settings: Repository<Setting>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: ReliablePublisher,
  ) {}

  /** Settings know nothing of what reads them: dependants register here and are awaited on every `set`. */
  onChange(listener: SettingChangeListener): void {
    this.listeners.push(listener);
  }

  async get(key: string): Promise<SettingView> {
    const def = SETTINGS[key];
    if (!def) throw new UnknownSettingError(key);
    const row = await this.settings.findOneBy({ key });
    return view(key, row ? JSON.parse(row.value) : def.default);
  }

  async set(key: string, value: unknown, now = new Date()): Promise<SettingView> {
    if (!SETTINGS[key]) throw new UnknownSettingError(key);
    const changed = view(key, value);
    await transactionWithEvents(this.dataSource, this.outbox, this.logger, 'setting', async (m, events) => {
      await m.getRepository(Setting).upsert({ key, value: JSON.stringify(value), updatedAt: now }, ['key']);
      events.push(changedMessage(changed));
    });
    for (const listener of this.listeners) await listener(key);
    return changed;
  }

  async effective(key: string): Promise<number> {
    return (await this.get(key)).effective_value;
  }

  /**
   * Publishes every known setting as it is (stored, or its default), through the outbox: a projection that started
   * after some changes (or before any event existed: defaults, existing installs) becomes complete. On a compacted
   * topic this only adds a newer copy of each key. The leader does it once each time it starts leading.
   */
  republishAll(): Promise<number> {
    return transactionWithEvents(this.dataSource, this.outbox, this.logger, 'setting', async (m, events) => {
      // Locked: a concurrent `set` commits (and enqueues its event) before or after this, never in between.
      const stored = new Map((await lockedQuery(m, Setting, 's').getMany()).map((r) => [r.key, r.value]));
      for (const [key, def] of Object.entries(SETTINGS)) {
        const raw = stored.get(key);
        events.push(changedMessage(view(key, raw === undefined ? def.default : JSON.parse(raw))));
      }
      return events.length;
    });
  }
}

function view(key: string, value: unknown): SettingView {
  return { key, value, effective_value: SETTINGS[key].effective(value) };
}

function changedMessage(s: SettingView) {
  return settingChangedMessage({ key: s.key, value: s.value, effectiveValue: s.effective_value });
}
