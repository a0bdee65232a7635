import { CpExportSimulator } from './cp-export/cp-export-simulator';
import { SplynxSimulator } from './splynx/splynx-simulator';

/**
 * `npm run simulators`: the upstream simulators on their own, for a distributed setup on one machine or a demo.
 * SIMULATOR_SPLYNX_PORT (default 4010), SIMULATOR_SPLYNX_CUSTOMERS (default 2000), SIMULATOR_CP_PORT (default 4050),
 * SIMULATOR_CP_ROWS (rows per Club Privilèges table, default 200), SIMULATOR_SEED (default 42).
 * Simulator settings are test-harness knobs, not hub configuration, so they are read here.
 */
async function main(): Promise<void> {
  const seed = Number(process.env.SIMULATOR_SEED ?? 42);
  const port = Number(process.env.SIMULATOR_SPLYNX_PORT ?? 4010);
  const customers = Number(process.env.SIMULATOR_SPLYNX_CUSTOMERS ?? 2000);
  const splynx = new SplynxSimulator({ customers, seed });
  const url = await splynx.start(port);
  process.stdout.write(
    `Splynx simulator: ${url} (${customers} customers)\n  SPLYNX_URL=${url} SPLYNX_API_KEY=${splynx.apiKey} SPLYNX_API_SECRET=${splynx.apiSecret}\n`,
  );
  const cpRows = Number(process.env.SIMULATOR_CP_ROWS ?? 200);
  const cp = new CpExportSimulator({ rows: cpRows, seed });
  const cpUrl = await cp.start(Number(process.env.SIMULATOR_CP_PORT ?? 4050));
  process.stdout.write(
    `Club Privilèges export simulator: ${cpUrl} (${cpRows} rows per table)\n  CP_EXPORT_URL=${cp.exportUrl} CP_VISIT_URL=${cp.visitUrl} CP_EXPORT_TOKEN=${cp.token}\n`,
  );
  const stop = () => void Promise.all([splynx.stop(), cp.stop()]).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
