import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import { PlatformModule } from '@sync-hub/platform';
import { Logger } from 'nestjs-pino';
import { SchedulesModule, SchedulesService, SettingsService } from '../../scheduler/src';
import { textTable } from './table';

/** The scheduler's schedules and settings in this process, without its loop (the CLI never leads). */
async function withScheduler<T>(config: AppConfig, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  @Module({ imports: [PlatformModule.forConfig(config), SchedulesModule] })
  class SchedulerCliModule {}
  const app = await NestFactory.createApplicationContext(SchedulerCliModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** `schedule:list`: every schedule with its next run, as a table. */
export function scheduleList(config: AppConfig): Promise<string> {
  return withScheduler(config, async (app) => {
    const service = app.get(SchedulesService);
    const rows = (await service.listAll()).map((s) => service.view(s));
    const header = ['id', 'company', 'domain', 'job', 'frequency', 'timezone', 'enabled', 'next run (UTC)', 'next run'];
    const table = rows.map((r) => [
      String(r.id),
      String(r.company_id),
      r.domain,
      r.job_type,
      describeFrequency(r),
      r.timezone,
      r.enabled ? 'yes' : r.paused_reason ? `paused: ${r.paused_reason}` : 'no',
      r.next_run_at ?? '-',
      r.next_run_human ?? '-',
    ]);
    return textTable(header, table);
  });
}

function describeFrequency(r: {
  frequency: string;
  interval_minutes: number | null;
  minute: number;
  hour_of_day: number | null;
  day_of_week: number | null;
  day_of_month: number | null;
}): string {
  const hhmm = `${String(r.hour_of_day ?? 0).padStart(2, '0')}:${String(r.minute).padStart(2, '0')}`;
  switch (r.frequency) {
    case 'every_minutes':
      return `every ${r.interval_minutes ?? '?'} min`;
    case 'hourly':
      return `hourly at :${String(r.minute).padStart(2, '0')}`;
    case 'daily':
      return `daily ${hhmm}`;
    case 'weekly':
      return `weekly ${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][r.day_of_week ?? 0]} ${hhmm}`;
    default:
      return `monthly day ${r.day_of_month} ${hhmm}`;
  }
}

export function settingsGet(config: AppConfig, key: string): Promise<string> {
  return withScheduler(config, async (app) => {
    const v = await app.get(SettingsService).get(key);
    return `${v.key} = ${JSON.stringify(v.value)} (effective: ${v.effective_value})\n`;
  });
}

/** A value that reads as JSON (5, "5", true) is stored as that JSON; anything else as text. */
export function settingsSet(config: AppConfig, key: string, raw: string): Promise<string> {
  return withScheduler(config, async (app) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    const v = await app.get(SettingsService).set(key, value);
    return `${v.key} = ${JSON.stringify(v.value)} (effective: ${v.effective_value})\n`;
  });
}
