import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { UsageSyncOneView } from '@sync-hub/contracts';
import { BrokenCircuitError, BulkheadPolicy, bulkhead } from 'cockatiel';
import { In, Repository } from 'typeorm';
import { Panel, ResellerConfig } from '../model/usage.entities';
import { createAdapter, panelTarget } from '../panels/adapter-factory';
import { panelAnswered, wholeBytes } from '../panels/panel-adapter';
import type { PanelAdapter, UsageReading, UsageTarget } from '../panels/panel-adapter';
import { PanelSecrets } from '../panels/panel-secrets';
import { fanOut, LaneCall } from './fan-out';
import { CIRCUIT_FAILURES, PanelCircuits } from './panel-circuits';
import { BatchedWrites } from './batched-writes';
import { PanelRun, UsageRunStats, UsageRunTally } from './usage-run-tally';
import { UsageWriter } from './usage-writer';

/** What one `reseller.usage` run did. */
export interface UsageRunReport {
  stats: UsageRunStats;
  /** The run stopped at its time limit: what was read is saved, the rest is in `notReached`. */
  timedOut: boolean;
  /** Panels the run read (not only skipped), and of those the ones that answered nothing (panel failures). */
  panelsReached: number;
  panelsFailed: number;
}

const targetOf = (c: ResellerConfig): UsageTarget => ({
  configId: c.id,
  externalUsername: c.externalUsername,
  panelUserId: c.panelUserId,
});

/**
 * The usage sync of seed 004: every active config of every active panel, read through its panel's adapter. Each panel
 * is a lane with its own workers (max_concurrency) and pace (requests_per_second), all sharing USAGE_MAX_CONCURRENCY
 * slots; a panel's circuit (PanelCircuits) turns a dead panel's reads into fast hard failures. A hard failure keeps the
 * stored usage and records the error; a success clears it. The diagnostic (`syncOne`) reads through the same adapter
 * and stores through the same writer.
 */
@Injectable()
export class UsageSyncService {
  private readonly logger = new Logger('ResellerUsageSync');
  private readonly shared: BulkheadPolicy;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(Panel) private readonly panels: Repository<Panel>,
    @InjectRepository(ResellerConfig) private readonly configs: Repository<ResellerConfig>,
    private readonly secrets: PanelSecrets,
    private readonly writer: UsageWriter,
    private readonly circuits: PanelCircuits,
  ) {
    this.shared = bulkhead(config.usage.maxConcurrency, Infinity);
  }

  /** Every active config of every active panel; stops reading when `signal` aborts (the time limit). */
  async syncAll(options: { signal: AbortSignal; runId?: string }): Promise<UsageRunReport> {
    const startedAt = Date.now();
    const panels = await this.panels.find({ where: { active: true }, order: { id: 'ASC' } });
    const configs = panels.length
      ? await this.configs.find({
          where: { status: 'active', panelId: In(panels.map((p) => p.id)) },
          order: { panelId: 'ASC', id: 'ASC' },
        })
      : [];
    this.logger.log({ configs: configs.length, panels: panels.length }, 'Starting reseller usage sync');
    const byReseller = new Map<number, number>();
    for (const c of configs) byReseller.set(c.resellerId, (byReseller.get(c.resellerId) ?? 0) + 1);
    for (const [resellerId, count] of [...byReseller].sort(([a], [b]) => a - b))
      this.logger.log({ reseller_id: resellerId, configs: count }, `Syncing usage for reseller ${resellerId}`);

    const runs = panels.map((panel) => this.panelRun(panel, configs)).filter((run) => run.configs.length > 0);
    const tally = new UsageRunTally(runs);
    const writes = new BatchedWrites(
      (batch) => this.writer.write(batch, { runId: options.runId }),
      (written) => tally.written(written),
    );
    /** When each config's read began: a reading older than a write that landed meanwhile is dropped. */
    const asked = new Map<number, Date>();
    const outcomes = await fanOut(
      runs.map((run) => ({
        items: run.configs,
        concurrency: run.panel.maxConcurrency || 8,
        requestsPerSecond: run.panel.requestsPerSecond,
      })),
      {
        shared: this.shared,
        signal: options.signal,
        read: (config, call, lane) => {
          asked.set(config.id, new Date());
          return this.read(runs[lane], config, call);
        },
        // One read at a time per panel until it answers once: a dead panel then holds one shared slot, not eight.
        answered: panelAnswered,
        onResult: (config, reading, lane) => {
          const readAt = asked.get(config.id);
          asked.delete(config.id);
          if (tally.read(lane, reading) && reading.status !== 'skipped')
            writes.add({ configId: config.id, reading, readAt });
        },
      },
    ).finally(() => {
      // At the time limit reads may still be in flight: their connections close when they end, not waited for.
      const closing = Promise.all(
        runs.flatMap((run) => (run.adapter ? [run.adapter.close().catch(() => undefined)] : [])),
      );
      return options.signal.aborted ? undefined : closing;
    });
    await writes.done();
    outcomes.forEach((o, lane) => tally.notReached(lane, o.notReached));
    const now = new Date();
    await this.writer.recordPanelHealth(tally.health(now), now);
    const panelOutcome = tally.panelOutcome();
    const { stats } = tally;
    const report: UsageRunReport = {
      stats,
      timedOut: options.signal.aborted,
      panelsReached: panelOutcome.reached,
      panelsFailed: panelOutcome.failed,
    };
    const counts = tally.processedByType();
    const fields = {
      ...counts,
      updated: stats.updated,
      unchanged: stats.unchanged,
      hard_failures: stats.failed,
      skipped: stats.skipped,
      not_reached: stats.notReached,
      duration_ms: Date.now() - startedAt,
    };
    const summary = Object.entries(counts)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    if (report.timedOut)
      this.logger.warn(
        fields,
        `Reseller usage sync stopped at its time limit (${summary}, not_reached: ${stats.notReached})`,
      );
    else this.logger.log(fields, `Reseller usage sync completed (${summary})`);
    return report;
  }

  /**
   * The diagnostic: one config, whatever its status, read now through its panel's adapter (not through the job's
   * circuit: it shows what the panel answers) and stored like the job stores it, events included. null: no such config.
   */
  async syncOne(configId: number): Promise<UsageSyncOneView | null> {
    const config = await this.configs.findOneBy({ id: configId });
    if (!config) return null;
    const panel = await this.panels.findOneByOrFail({ id: config.panelId });
    const base = { config_id: config.id, panel_type: panel.type };
    let reading: UsageReading;
    const readAt = new Date();
    let adapter: PanelAdapter | null = null;
    try {
      adapter = createAdapter(panelTarget(panel, this.secrets), {
        timeoutMs: this.config.usage.panelTimeoutMs,
        maxConcurrency: 1,
      });
      reading = wholeBytes(await adapter.read(targetOf(config)));
    } catch (err) {
      reading = { status: 'hard_failure', error: this.openFailure(panel, err), scope: 'panel' };
    } finally {
      await adapter?.close().catch(() => undefined);
    }
    if (reading.status === 'skipped') {
      const stored = config.usageBytes;
      return {
        ...base,
        status: 'skipped',
        fetched_bytes: null,
        source_field: null,
        previous_bytes: stored,
        current_bytes: stored,
        delta_bytes: 0,
        error: reading.reason,
      };
    }
    const [written] = await this.writer.write([{ configId: config.id, reading, readAt }]);
    const now = new Date();
    await this.writer.recordPanelHealth(
      [
        {
          panelId: panel.id,
          succeededAt: reading.status === 'ok' || reading.scope === 'config' ? now : null,
          error: reading.status === 'hard_failure' && reading.scope === 'panel' ? reading.error : null,
        },
      ],
      now,
    );
    const previous = written?.previous ?? config.usageBytes;
    const current = written?.current ?? previous;
    return {
      ...base,
      status: written?.status ?? 'hard_failure',
      fetched_bytes: reading.status === 'ok' ? reading.bytes : null,
      source_field: reading.status === 'ok' ? reading.sourceField : null,
      previous_bytes: previous,
      current_bytes: current,
      delta_bytes: current - previous,
      ...(reading.status === 'hard_failure' ? { error: reading.error } : {}),
    };
  }

  /** The panel's circuit state for the dashboard. */
  circuitState(panelId: number) {
    return this.circuits.state(panelId);
  }

  private panelRun(panel: Panel, all: ResellerConfig[]): PanelRun {
    const configs = all.filter((c) => c.panelId === panel.id);
    const run: PanelRun = {
      panel,
      configs,
      adapter: null,
      openError: null,
      reached: 0,
      answered: 0,
      panelFaults: 0,
      lastFault: null,
    };
    if (configs.length === 0) return run;
    try {
      run.adapter = createAdapter(panelTarget(panel, this.secrets), {
        timeoutMs: this.config.usage.panelTimeoutMs,
        maxConcurrency: panel.maxConcurrency || 8,
      });
    } catch (err) {
      run.openError = this.openFailure(panel, err);
      this.logger.warn({ panel_id: panel.id }, run.openError);
    }
    return run;
  }

  /** A panel whose adapter cannot be built (credentials sealed under another key, an unknown type): no call made. */
  private openFailure(panel: Panel, err: unknown): string {
    return `${panel.type} panel ${panel.name}: cannot be read (${(err as Error).message})`;
  }

  /** One config: a skip without a call; otherwise through the panel's circuit, its pace and a shared slot. */
  private async read(run: PanelRun, config: ResellerConfig, call: LaneCall): Promise<UsageReading> {
    const adapter = run.adapter;
    if (!adapter) return { status: 'hard_failure', error: run.openError!, scope: 'panel' };
    if ((config.externalUsername ?? '').trim() === '') return adapter.read(targetOf(config));
    try {
      return wholeBytes(await this.circuits.for(run.panel).execute(() => call(() => adapter.read(targetOf(config)))));
    } catch (err) {
      if (!(err instanceof BrokenCircuitError)) throw err;
      return {
        status: 'hard_failure',
        error: `${run.panel.type} panel ${run.panel.name}: circuit open after ${CIRCUIT_FAILURES} failures in a row; not called`,
        scope: 'panel',
      };
    }
  }
}
