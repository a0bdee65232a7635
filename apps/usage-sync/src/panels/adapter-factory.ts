import type { HttpClientOptions } from '@sync-hub/http';
import type { Panel } from '../model/usage.entities';
import { EylandooAdapter } from './eylandoo.adapter';
import { MarzbanAdapter, MarzneshinAdapter } from './jwt-panel.adapter';
import type { PanelAdapter, PanelTarget } from './panel-adapter';
import type { PanelSecrets } from './panel-secrets';
import { ThreeXuiAdapter } from './threexui.adapter';

/** How an adapter's HTTP client waits and how many requests it keeps in flight to its panel. */
export type AdapterHttpOptions = Pick<HttpClientOptions, 'timeoutMs' | 'maxConcurrency'>;

/** The adapter for a panel target (credentials already opened). The job and the diagnostic both build them here. */
export function createAdapter(panel: PanelTarget, http: AdapterHttpOptions): PanelAdapter {
  switch (panel.type) {
    case 'eylandoo':
      return new EylandooAdapter(panel, http);
    case 'marzban':
      return new MarzbanAdapter(panel, http);
    case 'marzneshin':
      return new MarzneshinAdapter(panel, http);
    case '3x-ui':
      return new ThreeXuiAdapter(panel, http);
    default:
      throw new Error(`unknown panel type ${JSON.stringify((panel as { type: unknown }).type)}`);
  }
}

/** A stored panel as its adapter needs it: its credentials opened with SECRETS_KEY, its settings parsed. */
export function panelTarget(panel: Panel, secrets: Pick<PanelSecrets, 'open'>): PanelTarget {
  return {
    id: panel.id,
    name: panel.name,
    type: panel.type,
    url: panel.url,
    credentials: secrets.open(panel),
    settings: panel.settings ?? {},
  };
}
