import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one process, served at /metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly runs = new Counter({
    name: 'sync_runs_total',
    help: 'Runs finished by this process, by outcome',
    labelNames: ['domain', 'job', 'status'] as const,
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
