import { EylandooSimulator } from './eylandoo-simulator';
import { MarzbanSimulator } from './marzban-simulator';
import { MarzneshinSimulator } from './marzneshin-simulator';
import { ThreeXuiSimulator } from './threexui-simulator';

const GIB = 1024 ** 3;

/** One config the embedded mode seeds on a panel: its username ('' is skipped by the sync) and traffic limit. */
export interface EmbeddedConfigSpec {
  username: string;
  trafficLimitBytes: number | null;
  /** Which of the seeded resellers (0-based) it belongs to. */
  reseller: number;
}

/** One simulated panel as the management API takes it (snake_case credentials and settings), with its configs. */
export interface EmbeddedPanelSpec {
  /** The seeded panel's name: what marks it as the embedded mode's on a later start. */
  name: string;
  type: 'eylandoo' | 'marzban' | 'marzneshin' | '3x-ui';
  /** Where the simulator listens now (a new port at every start). */
  url: string;
  credentials: { username?: string; password?: string; api_key?: string; api_token?: string };
  settings: Record<string, unknown>;
  latencyMs: number;
  configs: EmbeddedConfigSpec[];
  /** Sets a user's usage on the simulator (a later start carries on from the stored usage); false for an unknown user. */
  setUsage(username: string, bytes: number): boolean;
}

export interface EmbeddedVpnPanels {
  resellers: string[];
  panels: EmbeddedPanelSpec[];
  stop(): Promise<void>;
}

/** The seeded resellers; configs are spread over them in turn. */
export const EMBEDDED_RESELLERS = ['Demo reseller North', 'Demo reseller South', 'Demo reseller West'];
/** Configs per panel: 58 known users, one empty username (skipped) and one the panel does not know (hard failure). */
export const EMBEDDED_CONFIGS_PER_PANEL = 60;
/** The username each panel does not know: its config is a hard failure at every run. */
export const EMBEDDED_UNKNOWN_USER = 'user_deleted';

const LIMITS = [5 * GIB, 10 * GIB, 20 * GIB, 50 * GIB];
/** Shares of the limit, by the user's number: most below 80 %, some just under or past 80 % and 100 %. */
const SHARES = [0.05, 0.12, 0.25, 0.33, 0.4, 0.5, 0.55, 0.66, 0.785, 0.84, 0.96, 1.07];

/** Known user `i` (1-based): its limit (every seventh unlimited) and the usage its panel starts with. */
function knownUser(i: number): { limit: number | null; usage: number } {
  if (i % 7 === 0) return { limit: null, usage: Math.floor((i / 7) * 1.5 * GIB) };
  const limit = LIMITS[i % LIMITS.length];
  return { limit, usage: Math.floor(limit * SHARES[i % SHARES.length]) };
}

interface PanelSim {
  readonly url: string;
  start(): Promise<string>;
  stop(): Promise<void>;
  setUsage(username: string, bytes: number): unknown;
  removeUser(username: string): boolean;
}

/**
 * The embedded mode's VPN panels (issue 13): one simulator of each type (3x-ui in both route generations), each with
 * its own latency and fixed credentials (so the sealed ones stay good across starts), and the configs to seed on them.
 * Every start sets the same starting usage: user1…user58 on each panel, near or past 80 % and 100 % of their limits
 * for some, and removes `user_deleted`, so a run shows updates, skips and hard failures of every panel type.
 */
export async function startEmbeddedVpnPanels(): Promise<EmbeddedVpnPanels> {
  const known = EMBEDDED_CONFIGS_PER_PANEL - 2;
  const defs: Array<{
    sim: PanelSim;
    spec: Omit<EmbeddedPanelSpec, 'url' | 'configs' | 'setUsage' | 'latencyMs'>;
    latencyMs: number;
  }> = [];
  const eylandoo = new EylandooSimulator({ seed: 1301, latencyMs: 40 });
  defs.push({
    sim: eylandoo,
    latencyMs: 40,
    spec: { name: 'Eylandoo (simulator)', type: 'eylandoo', credentials: { api_key: eylandoo.apiKey }, settings: {} },
  });
  const marzban = new MarzbanSimulator({ seed: 1302, latencyMs: 25 });
  defs.push({
    sim: marzban,
    latencyMs: 25,
    spec: {
      name: 'Marzban (simulator)',
      type: 'marzban',
      credentials: { username: marzban.adminUsername, password: marzban.adminPassword },
      settings: {},
    },
  });
  const marzneshin = new MarzneshinSimulator({ seed: 1303, users: known, latencyMs: 60 });
  defs.push({
    sim: marzneshin,
    latencyMs: 60,
    spec: {
      name: 'Marzneshin (simulator)',
      type: 'marzneshin',
      credentials: { username: marzneshin.adminUsername, password: marzneshin.adminPassword },
      settings: {},
    },
  });
  const legacy = new ThreeXuiSimulator({ seed: 1304, users: known, latencyMs: 30 });
  defs.push({
    sim: legacy,
    latencyMs: 30,
    spec: {
      name: '3x-ui legacy (simulator)',
      type: '3x-ui',
      credentials: { username: legacy.adminUsername, password: legacy.adminPassword },
      settings: { generation: 'legacy' },
    },
  });
  const v31 = new ThreeXuiSimulator({
    seed: 1305,
    users: known,
    latencyMs: 50,
    generation: 'v3.1',
    apiToken: 'sim-3x-ui-api-token-0001',
  });
  defs.push({
    sim: v31,
    latencyMs: 50,
    spec: {
      name: '3x-ui v3.1 (simulator)',
      type: '3x-ui',
      credentials: { api_token: v31.apiToken! },
      settings: { generation: 'v3.1' },
    },
  });

  const started: PanelSim[] = [];
  const stop = async () => void (await Promise.all(started.map((s) => s.stop())));
  const panels: EmbeddedPanelSpec[] = [];
  try {
    for (const [n, { sim, spec, latencyMs }] of defs.entries()) {
      await sim.start();
      started.push(sim);
      const url = sim.url;
      const configs: EmbeddedConfigSpec[] = [];
      for (let i = 1; i <= known; i++) {
        const { limit, usage } = knownUser(i);
        sim.setUsage(`user${i}`, usage);
        configs.push({ username: `user${i}`, trafficLimitBytes: limit, reseller: (i + n) % EMBEDDED_RESELLERS.length });
      }
      sim.removeUser(EMBEDDED_UNKNOWN_USER);
      configs.push({ username: '', trafficLimitBytes: 10 * GIB, reseller: n % EMBEDDED_RESELLERS.length });
      configs.push({
        username: EMBEDDED_UNKNOWN_USER,
        trafficLimitBytes: 10 * GIB,
        reseller: (n + 1) % EMBEDDED_RESELLERS.length,
      });
      panels.push({
        ...spec,
        url,
        latencyMs,
        configs,
        setUsage: (username, bytes) => {
          try {
            sim.setUsage(username, bytes);
            return true;
          } catch {
            return false; // a user the panel does not know
          }
        },
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { resellers: EMBEDDED_RESELLERS, panels, stop };
}
