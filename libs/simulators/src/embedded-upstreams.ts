import { SplynxSimulator } from './splynx/splynx-simulator';

export interface EmbeddedUpstreams {
  /** Environment additions that point the sync apps at the simulators. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * For the embedded mode and the CLI without a configured upstream: starts the simulators on loopback, seeded with
 * demo data, and says how to reach them. An upstream whose URL is configured is left alone.
 */
export async function startEmbeddedUpstreams(opts: {
  splynxUrlConfigured: boolean;
  splynxCustomers: number;
}): Promise<EmbeddedUpstreams> {
  const env: Record<string, string> = {};
  const stops: Array<() => Promise<void>> = [];
  if (!opts.splynxUrlConfigured) {
    const splynx = new SplynxSimulator({ customers: opts.splynxCustomers });
    env.SPLYNX_URL = await splynx.start();
    env.SPLYNX_API_KEY = splynx.apiKey;
    env.SPLYNX_API_SECRET = splynx.apiSecret;
    stops.push(() => splynx.stop());
  }
  return { env, stop: async () => void (await Promise.all(stops.map((s) => s()))) };
}
