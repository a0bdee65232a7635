import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import { UsageSyncOneView } from '@sync-hub/contracts';
import { PlatformModule } from '@sync-hub/platform';
import { Logger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { Panel, Reseller, ResellerConfig, ResellerUsageModule, UsageSyncService } from '../../usage-sync/src';
import { Output } from './robaws-sync-customers.command';

const MB = 1024 * 1024;

/** `524288000 bytes (500.00 MB)`, as the seed prints a byte count. */
function bytes(n: number): string {
  return `${n} bytes (${(n / MB).toFixed(2)} MB)`;
}

/** The panel's URL without user info, query or fragment: where the command looked, never a credential. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

async function context(config: AppConfig): Promise<INestApplicationContext> {
  @Module({ imports: [PlatformModule.forConfig(config), ResellerUsageModule] })
  class UsageCliModule {}
  const app = await NestFactory.createApplicationContext(UsageCliModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(Logger));
  return app;
}

/**
 * `reseller:usage:sync-one --config=ID` (seed 004's diagnostic command): shows the config and its panel, then reads and
 * stores its usage through `UsageSyncService.syncOne`, the job's adapter and writer (events included), and prints it
 * section by section as the seed does. Answers the exit code: 0 synced (updated or unchanged); 1 config not found, a
 * hard failure (usage kept, the error recorded on the config) or a skip (empty username: nothing read or stored).
 */
export async function usageSyncOne(config: AppConfig, configId: number, out: Output): Promise<number> {
  const app = await context(config);
  try {
    const ds = app.get(DataSource);
    out.write(`=== Syncing Usage for Config #${configId} ===\n\n`);
    const row = await ds.getRepository(ResellerConfig).findOneBy({ id: configId });
    if (!row) return notFound(out);
    const panel = await ds
      .getRepository(Panel)
      .findOneOrFail({ where: { id: row.panelId }, select: { id: true, name: true, type: true, url: true } });
    const reseller = await ds.getRepository(Reseller).findOneByOrFail({ id: row.resellerId });
    printConfig(out, row, reseller, panel);

    out.write('📡 Fetching usage from panel...\n\n');
    const result = await app.get(UsageSyncService).syncOne(configId);
    if (!result) return notFound(out); // deleted meanwhile
    return printResult(out, result);
  } finally {
    await app.close();
  }
}

function notFound(out: Output): number {
  out.write("❌ Config not found\n  The specified config ID doesn't exist in database\n");
  return 1;
}

function printConfig(out: Output, c: ResellerConfig, reseller: Reseller, panel: Panel): void {
  const limit = c.trafficLimitBytes !== null && c.trafficLimitBytes > 0 ? bytes(c.trafficLimitBytes) : 'unlimited';
  out.write(
    [
      '📋 Config Information:',
      `  ID: ${c.id}`,
      `  Reseller ID: ${c.resellerId}`,
      `  Reseller Name: ${reseller.name}`,
      `  Status: ${c.status}`,
      `  Panel Type: ${panel.type}`,
      `  Panel ID: ${c.panelId}`,
      `  Panel User ID: ${c.panelUserId ?? '(none)'}`,
      `  External Username: ${c.externalUsername}`,
      `  Current Usage: ${bytes(c.usageBytes)}`,
      `  Traffic Limit: ${limit}`,
      '',
      '🔧 Panel Information:',
      `  Panel Name: ${panel.name}`,
      `  Panel Type: ${panel.type}`,
      `  URL: ${shownUrl(panel.url)}`,
      '',
      '',
    ].join('\n'),
  );
}

function printResult(out: Output, r: UsageSyncOneView): number {
  if (r.status === 'skipped') {
    out.write(
      [
        `⚠️  Usage fetch skipped: ${r.error ?? 'no reason given'} (no call made to the panel)`,
        `  Usage left as stored: ${bytes(r.current_bytes)}`,
        '  Set the config external username to sync it',
        '',
      ].join('\n'),
    );
    return 1;
  }
  if (r.status === 'hard_failure') {
    out.write(
      [
        '❌ Hard failure (null): HTTP error, network issue, invalid credentials, or user not found on panel',
        `  Error: ${r.error ?? 'unknown'}`,
        `  Usage kept: ${bytes(r.current_bytes)} (the error is recorded on the config as last_usage_error)`,
        '  Check logs: detailed error information is written to the logs',
        '',
      ].join('\n'),
    );
    return 1;
  }
  out.write(
    [
      '✅ Successfully fetched usage from panel',
      `📊 Usage: ${bytes(r.fetched_bytes ?? r.current_bytes)}`,
      `  Source Field: ${r.source_field ?? '(unknown)'}`,
      '',
      '💾 Updated config usage_bytes in database',
      `  Previous: ${bytes(r.previous_bytes)}`,
      `  Current:  ${bytes(r.current_bytes)}`,
      `  Delta:    ${bytes(r.delta_bytes)}`,
      '',
      '✅ Sync completed successfully',
      '',
    ].join('\n'),
  );
  return 0;
}
