import { INestApplication, Logger } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { EmbeddedPanelSpec, EmbeddedVpnPanels } from '@sync-hub/simulators';
import type { DataSource } from 'typeorm';
import { Panel, PanelsApiService, Reseller, ResellerConfig } from '../../usage-sync/src';

/** What the start-up did with the usage tables, for the banner. */
export type UsageSeedOutcome =
  | { kind: 'seeded'; resellers: number; panels: number; configs: number }
  /** The tables held rows: nothing written but the seeded panels' addresses (`repointed` of them). */
  | { kind: 'kept'; repointed: number };

const CONFIG_CHUNK = 100;
const logger = new Logger('EmbeddedUsageSeed');

/** A loopback address: where the embedded mode's simulators listen, never a real panel. */
function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * The embedded mode's usage data (issue 13). While `resellers`, `panels` and `reseller_configs` are all empty it seeds
 * the resellers, one panel per simulator (through PanelsApiService, so the credentials are checked and sealed exactly
 * as the API stores them) and the configs. Otherwise it writes no row but this: a panel named as a seeded one, of its
 * type, that still points at a loopback address is pointed at this start's simulator (their ports change at every
 * start), and that simulator carries on from the usage stored for its configs.
 */
export async function seedEmbeddedUsage(app: INestApplication, vpn: EmbeddedVpnPanels): Promise<UsageSeedOutcome> {
  const dataSource = app.get<DataSource>(getDataSourceToken(), { strict: false });
  const panelsApi = app.get(PanelsApiService, { strict: false });
  const counts = await Promise.all(
    [Reseller, Panel, ResellerConfig].map((entity) => dataSource.getRepository(entity).count()),
  );
  if (counts.every((n) => n === 0)) return seed(dataSource, panelsApi, vpn);
  let repointed = 0;
  for (const spec of vpn.panels) {
    const panel = await dataSource.getRepository(Panel).findOneBy({ name: spec.name });
    if (!panel || panel.type !== spec.type || !isLoopback(panel.url)) continue;
    if (panel.url !== spec.url) {
      await panelsApi.update(panel.id, { url: spec.url });
      repointed++;
    }
    await resumeUsage(dataSource, panel.id, spec);
  }
  if (repointed) logger.log(`${repointed} seeded panel(s) pointed at this start's VPN panel simulators`);
  return { kind: 'kept', repointed };
}

async function seed(
  dataSource: DataSource,
  panelsApi: PanelsApiService,
  vpn: EmbeddedVpnPanels,
): Promise<UsageSeedOutcome> {
  const now = new Date();
  const resellers = await dataSource
    .getRepository(Reseller)
    .save(vpn.resellers.map((name) => ({ name, createdAt: now, updatedAt: now })));
  const rows: Array<Record<string, unknown>> = [];
  for (const spec of vpn.panels) {
    const panel = await panelsApi.create({
      name: spec.name,
      type: spec.type,
      url: spec.url,
      ...spec.credentials,
      settings: spec.settings,
    });
    for (const c of spec.configs)
      rows.push({
        resellerId: resellers[c.reseller].id,
        panelId: panel.id,
        panelUserId: null,
        externalUsername: c.username,
        status: 'active',
        usageBytes: 0,
        trafficLimitBytes: c.trafficLimitBytes,
        limitAlertPercent: 0,
        createdAt: now,
        updatedAt: now,
      });
  }
  // Inserted directly: the API refuses an empty username, which the seed has on purpose (the sync skips it).
  await dataSource.transaction(async (m) => {
    for (let i = 0; i < rows.length; i += CONFIG_CHUNK)
      await m.getRepository(ResellerConfig).insert(rows.slice(i, i + CONFIG_CHUNK));
  });
  logger.log(
    `seeded ${resellers.length} resellers, ${vpn.panels.length} panels and ${rows.length} configs on the VPN panel simulators`,
  );
  return { kind: 'seeded', resellers: resellers.length, panels: vpn.panels.length, configs: rows.length };
}

/** The simulator starts from its fixed usage; its users go on from what the last runs stored instead. */
async function resumeUsage(dataSource: DataSource, panelId: number, spec: EmbeddedPanelSpec): Promise<void> {
  const configs = await dataSource.getRepository(ResellerConfig).findBy({ panelId });
  for (const c of configs) if (c.externalUsername && c.usageBytes > 0) spec.setUsage(c.externalUsername, c.usageBytes);
}
