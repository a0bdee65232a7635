import { PanelTypeStats, RunStats } from '@sync-hub/contracts';
import { Panel, PANEL_TYPES, PanelType, ResellerConfig } from '../model/usage.entities';
import type { PanelAdapter, UsageReading } from '../panels/panel-adapter';
import type { PanelHealth, WrittenConfig } from './usage-writer';

/** A `reseller.usage` run's stats: the totals, the configs not reached, and the counts per panel type. */
export type UsageRunStats = RunStats & { notReached: number; panelTypes: Record<string, PanelTypeStats> };

/** One panel in a run: its adapter (null when it cannot be built) and what it answered. */
export interface PanelRun {
  panel: Panel;
  configs: ResellerConfig[];
  adapter: PanelAdapter | null;
  /** Why the adapter could not be built (credentials that do not open): every config fails without a call. */
  openError: string | null;
  reached: number;
  /** Reads the panel answered: a usage, or an unknown user. */
  answered: number;
  /** Panel-level failures: unreachable, 5xx, refused credentials, circuit open. */
  panelFaults: number;
  lastFault: string | null;
}

const emptyTypeStats = (): PanelTypeStats => ({
  processed: 0,
  updated: 0,
  unchanged: 0,
  hardFailures: 0,
  skipped: 0,
  notReached: 0,
});

/** Counts a run's results as they come (reads) and as they are stored (updated or unchanged). */
export class UsageRunTally {
  readonly stats: UsageRunStats;
  private readonly typeOf = new Map<number, PanelType>();

  constructor(private readonly runs: PanelRun[]) {
    const panelTypes = Object.fromEntries(PANEL_TYPES.map((t) => [t, emptyTypeStats()]));
    this.stats = { ...new RunStats(), notReached: 0, panelTypes };
    for (const run of runs) for (const c of run.configs) this.typeOf.set(c.id, run.panel.type);
  }

  /** A reading of lane `lane`'s panel; answers whether it is to be stored (a skip is not). */
  read(lane: number, reading: UsageReading): boolean {
    const run = this.runs[lane];
    const type = this.stats.panelTypes[run.panel.type];
    run.reached++;
    type.processed++;
    if (reading.status === 'skipped') {
      this.stats.skipped++;
      type.skipped++;
      return false;
    }
    if (reading.status === 'ok') {
      this.stats.fetched++;
      run.answered++;
      return true;
    }
    this.stats.failed++;
    type.hardFailures++;
    if (reading.scope === 'config')
      run.answered++; // the panel answered: the user is unknown to it
    else {
      run.panelFaults++;
      run.lastFault = reading.error;
    }
    return true;
  }

  written(written: WrittenConfig[]): void {
    for (const w of written) {
      if (w.status === 'hard_failure') continue;
      this.stats[w.status]++;
      this.stats.panelTypes[this.typeOf.get(w.configId)!][w.status]++;
    }
  }

  notReached(lane: number, count: number): void {
    this.stats.notReached += count;
    this.stats.panelTypes[this.runs[lane].panel.type].notReached += count;
  }

  /** The panels that were read (not only skipped), and of those the ones that answered nothing. */
  panelOutcome(): { reached: number; failed: number } {
    const read = this.runs.filter((r) => r.answered + r.panelFaults > 0);
    return { reached: read.length, failed: read.filter((r) => r.answered === 0).length };
  }

  /** Each reached panel's health: answered at least once → its last success; a panel-level failure → its last error. */
  health(now: Date): PanelHealth[] {
    return this.runs
      .filter((r) => r.reached > 0)
      .map((r) => ({
        panelId: r.panel.id,
        succeededAt: r.answered > 0 ? now : null,
        error: r.panelFaults > 0 ? r.lastFault : null,
      }));
  }

  /** The completed line's counts: `eylandoo_configs_processed` (the seed's) and the other types'. */
  processedByType(): Record<string, number> {
    return Object.fromEntries(PANEL_TYPES.map((t) => [`${t}_configs_processed`, this.stats.panelTypes[t].processed]));
  }
}
