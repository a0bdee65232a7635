import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadAll } from 'js-yaml';

const APPS_YAML = path.resolve(__dirname, '..', '..', '..', 'k8s', 'base', 'apps.yaml');

interface Deployment {
  kind?: string;
  metadata?: { name?: string };
  spec?: { template?: { spec?: { containers?: Array<{ args?: string[] }> } } };
}

let byApp: Map<string, string[]> | null = null;

/**
 * The Node flags `app`'s Deployment starts it with (what comes before `dist/apps/<app>/main.js` in its container's
 * args; k8s/base/apps.yaml). Tests and the bench start each app with them, so what they measure and exercise is the
 * process production runs: a heap cap too small for a job fails a test, not a pod.
 */
export function deploymentNodeFlags(app: string): string[] {
  if (!byApp) {
    byApp = new Map();
    for (const doc of loadAll(fs.readFileSync(APPS_YAML, 'utf8')) as Deployment[]) {
      if (doc?.kind !== 'Deployment' || !doc.metadata?.name) continue;
      const args = doc.spec?.template?.spec?.containers?.[0]?.args ?? [];
      const script = args.findIndex((a) => /(?:^|\/)dist\/apps\/[\w-]+\/main\.js$/.test(a));
      byApp.set(doc.metadata.name, script > 0 ? args.slice(0, script) : []);
    }
  }
  return byApp.get(app) ?? [];
}
