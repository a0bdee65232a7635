/**
 * A second (and third) accounting-sync process for the token tests: boots accounting-sync's ConnectionsModule on the
 * platform exactly as the app does (distributed mode: MariaDB, Kafka), waits for a go signal so every process starts
 * calling at once, calls `freshQuickBooksToken` CALLERS times concurrently, and writes what it got to RESULT_FILE:
 * a SHA-256 of each token (never the token) or the error. Usage: node token-callers.js (env as for accounting-sync,
 * plus COMPANY_ID, CALLERS, FORCE, READY_FILE, GO_FILE, RESULT_FILE).
 */
import 'reflect-metadata';
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@sync-hub/config';
import { PlatformModule } from '@sync-hub/platform';
import { Logger } from 'nestjs-pino';
import { ConnectionsModule, QuickBooksTokens } from '../../apps/accounting-sync/src';

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig('accounting-sync', env);
  @Module({ imports: [PlatformModule.forConfig(config), ConnectionsModule] })
  class TokenCallersModule {}
  const app = await NestFactory.createApplicationContext(TokenCallersModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  await app.init();
  const tokens = app.get(QuickBooksTokens);
  fs.writeFileSync(env.READY_FILE!, 'ready');
  while (!fs.existsSync(env.GO_FILE!)) await new Promise((r) => setTimeout(r, 5));
  const companyId = Number(env.COMPANY_ID ?? 1);
  const results = await Promise.allSettled(
    Array.from({ length: Number(env.CALLERS ?? 1) }, () =>
      tokens.freshQuickBooksToken(companyId, { force: env.FORCE === 'true' }),
    ),
  );
  fs.writeFileSync(
    env.RESULT_FILE!,
    JSON.stringify(
      results.map((r) =>
        r.status === 'fulfilled'
          ? { token: createHash('sha256').update(r.value).digest('hex') }
          : { error: (r.reason as Error).message, code: (r.reason as { code?: string }).code },
      ),
    ),
  );
  await app.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`token-callers failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
