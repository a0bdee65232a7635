import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { onUpstreamError } from '@sync-hub/http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * How long a scrape waits for a source (the outbox count, the bus's offsets) before it answers without it: Prometheus'
 * own default scrape timeout is 10 s, and /metrics must answer while the broker or the database is down.
 */
export const SCRAPE_SOURCE_TIMEOUT_MS = 2000;

/**
 * Values read when /metrics is scraped rather than counted as they happen: `refresh` sets `gauges`. A refresh is reused
 * for `cacheMs` (several Prometheus replicas, or a dashboard, do not multiply the queries) and shared by concurrent
 * scrapes; one that fails or is late leaves its gauges empty (no stale number) and `metrics_source_up` at 0.
 */
export interface ScrapeSource {
  name: string;
  gauges: Gauge[];
  refresh: () => Promise<void>;
  cacheMs: number;
}

interface SourceState extends ScrapeSource {
  /** When it was last read (0: never, or the last try failed). */
  at: number;
  pending: Promise<void> | null;
  /** Whether the last try read it (null: not tried yet). */
  up: boolean | null;
}

/** Prometheus metrics of one process, served at /metrics. docs/operations.md "## Metrics" lists them with alerts. */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(MetricsService.name);
  readonly registry = new Registry();
  private readonly sources = new Map<string, SourceState>();

  readonly runs = new Counter({
    name: 'sync_runs_total',
    help: 'Runs ended by this process, by outcome (completed, failed, skipped)',
    labelNames: ['domain', 'job', 'status'] as const,
    registers: [this.registry],
  });

  readonly runFailures = new Counter({
    name: 'sync_run_failures_total',
    help: "Failed runs by the error's origin (source, destination, config, internal) and code",
    labelNames: ['domain', 'job', 'origin', 'code'] as const,
    registers: [this.registry],
  });

  readonly runsSkipped = new Counter({
    name: 'sync_runs_skipped_total',
    help: 'Ticks skipped by this process, by reason (overlap: the job was still running; stale: past its deadline)',
    labelNames: ['domain', 'job', 'reason'] as const,
    registers: [this.registry],
  });

  readonly records = new Counter({
    name: 'sync_records_total',
    help: 'Records handled by runs, by outcome (created, updated, unchanged, failed, deactivated)',
    labelNames: ['domain', 'job', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly runDuration = new Histogram({
    name: 'sync_run_duration_seconds',
    help: 'Run duration',
    labelNames: ['domain', 'job'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly deadLettered = new Counter({
    name: 'bus_messages_dead_lettered_total',
    help: 'Messages sent to a dead-letter topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'upstream_errors_total',
    help: 'Failed attempts of upstream HTTP requests (each retry counts), by class: timeout, rate_limited, server_error, client_error, auth, bad_response, unreachable',
    labelNames: ['upstream', 'class'] as const,
    registers: [this.registry],
  });

  readonly tokenRefreshFailures = new Counter({
    name: 'upstream_token_refresh_failures_total',
    help: 'Token refreshes or logins an upstream refused or that could not be done',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });

  readonly outboxPending = new Gauge({
    name: 'outbox_pending_messages',
    help: 'Messages in the outbox table not sent to the bus yet (the whole database, whichever app is scraped)',
    registers: [this.registry],
  });

  readonly outboxOldestAge = new Gauge({
    name: 'outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest message waiting in the outbox; 0 when it is empty',
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'kafka_consumer_group_lag',
    help: "Records on the topic after the group's committed offsets (summed over partitions); reported by the gateway",
    labelNames: ['group', 'topic'] as const,
    registers: [this.registry],
  });

  readonly deadLetterDepth = new Gauge({
    name: 'bus_dead_letter_depth',
    help: 'Dead letters on the .dlq topic (replay markers not counted), replayed or not; reported by the gateway',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly deadLetterPending = new Gauge({
    name: 'bus_dead_letter_pending',
    help: 'Dead letters on the .dlq topic not replayed yet; reported by the gateway',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly sourceUp = new Gauge({
    name: 'metrics_source_up',
    help: 'Whether the last scrape read the source (outbox, kafka_offsets, dead_letters) in time: 1, else 0',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  private stopCountingUpstreamErrors: (() => void) | null = null;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts the failed attempts of every upstream HTTP client in the process (libs/http reports them). */
  onModuleInit(): void {
    this.stopCountingUpstreamErrors ??= onUpstreamError((upstream, errorClass) =>
      this.upstreamErrors.inc({ upstream, class: errorClass }),
    );
  }

  onModuleDestroy(): void {
    this.stopCountingUpstreamErrors?.();
    this.stopCountingUpstreamErrors = null;
  }

  /** Registers values read at scrape time; returns its removal (a provider that stops takes its source away). */
  addScrapeSource(source: ScrapeSource): () => void {
    this.sources.set(source.name, { ...source, at: 0, pending: null, up: null });
    return () => {
      this.sources.delete(source.name);
      this.sourceUp.remove({ source: source.name });
      for (const gauge of source.gauges) gauge.reset();
    };
  }

  /** The text Prometheus reads: the scrape sources refreshed first, each within SCRAPE_SOURCE_TIMEOUT_MS. */
  async scrape(now = Date.now()): Promise<string> {
    await Promise.all([...this.sources.values()].map((s) => this.refreshSource(s, now)));
    return this.registry.metrics();
  }

  private async refreshSource(source: SourceState, now: number): Promise<void> {
    if (source.at > 0 && now - source.at < source.cacheMs) return;
    source.pending ??= source.refresh().finally(() => (source.pending = null));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        source.pending,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer in ${SCRAPE_SOURCE_TIMEOUT_MS} ms`)),
            SCRAPE_SOURCE_TIMEOUT_MS,
          );
        }),
      ]);
      source.at = now;
      if (source.up === false) this.logger.log(`metrics source ${source.name} read again`);
      source.up = true;
      this.sourceUp.set({ source: source.name }, 1);
    } catch (err) {
      // Not cached: the next scrape tries again (joining this refresh if it is still going).
      source.at = 0;
      for (const gauge of source.gauges) gauge.reset();
      this.sourceUp.set({ source: source.name }, 0);
      // Once per outage, not once per scrape.
      if (source.up !== false) this.logger.warn(`metrics source ${source.name} not read: ${(err as Error).message}`);
      source.up = false;
    } finally {
      clearTimeout(timer);
    }
  }
}
