import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { ConfigValidationError, loadConfig } from '@sync-hub/config';
import { exitOnStartupError, startApp } from '@sync-hub/platform';
import { startEmbeddedUpstreams } from '@sync-hub/simulators';
import { setupOpenApi } from '../../gateway/src';
import { EmbeddedModule } from './embedded.module';
import { seedEmbeddedUsage, UsageSeedOutcome } from './usage-seed';

/** `npm start`: the whole hub in one process with the in-process bus, SQLite under ./data and the simulators. */
async function main(): Promise<void> {
  const base = loadConfig('embedded', process.env);
  if (base.mode !== 'embedded') {
    throw new ConfigValidationError([
      'KAFKA_BROKERS is set: `npm start` is the embedded mode; start the apps one by one for the distributed mode (see README)',
    ]);
  }
  const upstreams = await startEmbeddedUpstreams({
    splynxUrlConfigured: base.splynx.baseUrl !== null,
    splynxCustomers: base.simulator.splynxCustomers,
    quickbooksConfigured: base.accounting.quickbooks.clientId !== '',
    devposConfigured: base.accounting.devpos.authBasic !== '',
    robawsConfigured: base.crm.robaws.baseUrl !== null,
    cpExportConfigured: base.crm.cp.exportUrl !== null,
    hubPort: base.port,
    vpnPanels: base.simulator.seedUsage,
  });
  const generatedKey = base.gatewayApiKeys.length === 0 ? randomBytes(24).toString('base64url') : null;
  const config = loadConfig('embedded', {
    ...process.env,
    ...upstreams.env,
    ...(generatedKey ? { GATEWAY_API_KEYS: generatedKey } : {}),
  });

  const { app, url } = await startApp(EmbeddedModule.register(config), { configure: setupOpenApi });
  (app.getHttpServer() as Server).on('close', () => void upstreams.stop());
  const key = generatedKey ?? config.gatewayApiKeys[0];
  process.stdout.write(
    [
      '',
      `Sync hub (embedded mode) is running at ${url}`,
      `  API key${generatedKey ? ' (generated; set GATEWAY_API_KEYS to choose one)' : ''}: ${key}`,
      `  Runs:    curl -H "Authorization: Bearer ${key}" ${url}/api/runs`,
      `  Dashboard: ${url}/   API docs: ${url}/docs`,
      `  Health:  ${url}/health/ready   Metrics: ${url}/metrics`,
      `  Data:    ${config.database.kind === 'sqlite' ? config.database.file : 'MySQL'}`,
      upstreams.env.SPLYNX_URL
        ? `  Splynx:  simulator at ${upstreams.env.SPLYNX_URL} with ${config.simulator.splynxCustomers} customers`
        : `  Splynx:  ${config.splynx.baseUrl}`,
      upstreams.simulated.quickbooks
        ? `  QuickBooks: simulator at ${config.accounting.quickbooks.apiBase} (company 1 connected, realm ${config.accounting.quickbooks.seedRealmId})`
        : `  QuickBooks: ${config.accounting.quickbooks.apiBase}`,
      upstreams.simulated.devpos
        ? `  DevPos:  simulator at ${config.accounting.devpos.baseUrl} (company 1 connected, tenant ${config.accounting.devpos.seed?.tenant})`
        : `  DevPos:  ${config.accounting.devpos.baseUrl}`,
      upstreams.simulated.robaws
        ? `  Robaws:  simulator at ${config.crm.robaws.baseUrl}`
        : `  Robaws:  ${config.crm.robaws.baseUrl ?? '(not configured)'}`,
      upstreams.simulated.cpExport
        ? `  Loyalty club: simulator at ${config.crm.cp.exportUrl}`
        : `  Loyalty club: ${config.crm.cp.exportUrl ?? '(not configured)'}`,
    ].join('\n') + '\n',
  );
  // The banner goes out once the hub is ready (tests and people read it then); the usage seed's line when it is done.
  const usage = upstreams.vpnPanels ? await seedEmbeddedUsage(app, upstreams.vpnPanels) : null;
  process.stdout.write(`${usageLine(usage, upstreams.vpnPanels?.panels.length ?? 0)}\n\n`);
}

/** The VPN panels' line: what the start-up seeded, or kept. */
function usageLine(usage: UsageSeedOutcome | null, simulators: number): string {
  const sims = `${simulators} VPN panel simulators (Eylandoo, Marzban, Marzneshin, 3x-ui legacy and v3.1)`;
  if (!usage) return '  Usage:   no panel simulators, nothing seeded (EMBEDDED_SEED_USAGE=false)';
  if (usage.kind === 'seeded')
    return `  Usage:   ${sims}; seeded ${usage.resellers} resellers, ${usage.panels} panels, ${usage.configs} configs`;
  return `  Usage:   ${sims}; stored resellers, panels and configs kept (${usage.repointed} seeded panels pointed at the simulators)`;
}

main().catch(exitOnStartupError);
