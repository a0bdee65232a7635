import { Injectable, Logger } from '@nestjs/common';
import { circuitBreaker, CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, handleWhenResult } from 'cockatiel';
import type { Panel } from '../model/usage.entities';
import type { UsageReading } from '../panels/panel-adapter';

/** Panel-level failures in a row that open a panel's circuit. */
export const CIRCUIT_FAILURES = 5;
/** How long an open circuit answers without a call before one read tries the panel again. */
export const CIRCUIT_HALF_OPEN_AFTER_MS = 60_000;

export type CircuitView = 'closed' | 'open' | 'half_open';

const isPanelFault = (r: unknown): boolean =>
  (r as UsageReading).status === 'hard_failure' && (r as { scope?: string }).scope === 'panel';

/**
 * A circuit breaker per panel (cockatiel), kept across runs: after CIRCUIT_FAILURES panel-level failures in a row
 * (unreachable, 5xx, refused credentials; an unknown user is the config's, not the panel's) the panel's reads fail at
 * once without a call, until one read after CIRCUIT_HALF_OPEN_AFTER_MS finds it answering again (the reads behind that
 * one wait for it). A panel edited since (its row's updated_at) gets a fresh circuit: a fixed URL is tried at once.
 */
@Injectable()
export class PanelCircuits {
  private readonly logger = new Logger(PanelCircuits.name);
  private readonly circuits = new Map<number, { version: number; policy: CircuitBreakerPolicy }>();
  /** Overridable for tests. */
  halfOpenAfterMs = CIRCUIT_HALF_OPEN_AFTER_MS;

  /** The panel's circuit: it opens on hard failures of scope `panel` (readings, not exceptions). */
  for(panel: Pick<Panel, 'id' | 'name' | 'updatedAt'>): CircuitBreakerPolicy {
    const version = new Date(panel.updatedAt).getTime();
    const held = this.circuits.get(panel.id);
    if (held && held.version === version) return held.policy;
    const policy = circuitBreaker(handleWhenResult(isPanelFault), {
      halfOpenAfter: this.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(CIRCUIT_FAILURES),
    });
    policy.onBreak(() =>
      this.logger.warn(
        { panel_id: panel.id },
        `panel ${panel.name} (id ${panel.id}): circuit open after ${CIRCUIT_FAILURES} failures in a row; its configs fail without a call for ${Math.round(this.halfOpenAfterMs / 1000)} s`,
      ),
    );
    policy.onReset(() =>
      this.logger.log({ panel_id: panel.id }, `panel ${panel.name} (id ${panel.id}): circuit closed, it answers again`),
    );
    this.circuits.set(panel.id, { version, policy });
    return policy;
  }

  /** The panel's circuit as the dashboard shows it (closed when it has none yet). */
  state(panelId: number): CircuitView {
    const state = this.circuits.get(panelId)?.policy.state;
    if (state === CircuitState.Open || state === CircuitState.Isolated) return 'open';
    return state === CircuitState.HalfOpen ? 'half_open' : 'closed';
  }
}
