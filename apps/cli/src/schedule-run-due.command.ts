import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppConfig } from '@sync-hub/config';
import { scheduledRunId } from '@sync-hub/contracts';
import { PlatformModule } from '@sync-hub/platform';
import { Logger } from 'nestjs-pino';
import { DataSource, In, LessThanOrEqual } from 'typeorm';
import { Schedule, SCHEDULER_FEATURES, SchedulerClock, SchedulerLoop } from '../../scheduler/src';
import { textTable } from './table';
import { UsageError } from './usage-error';

/** One due schedule and what the step did with it. */
export interface DueOutcome {
  scheduleId: number;
  companyId: number;
  domain: string;
  job: string;
  /** The slot ticked and its run id, or null when the slot was beyond the catch-up window (reported as skipped). */
  slot: string | null;
  runId: string | null;
}

export type RunDueResult = { leader: false } | { leader: true; now: string; due: DueOutcome[] };

/**
 * `schedule:run-due`: every enabled schedule whose next run is due now (or overdue) ticked once, exactly as the loop
 * would, for the seed's "manual test run". It is the scheduler's own step (SchedulerLoop.step), taken in this process
 * with a clock that stands still (no timers): the step takes the `scheduler.leader` lease first and publishes the due
 * ticks in lease-fenced, row-locked transactions through the outbox, then advances next_run_at. So with a scheduler
 * running, whose leader holds the lease, this process does not lead and publishes nothing (the leader ticks what is
 * due within the minute); without one it leads for one step, as a new leader would (reconciling the registry and
 * republishing companies, schedules and settings, which projections take idempotently), and releases the lease on exit.
 */
export async function scheduleRunDue(config: AppConfig): Promise<RunDueResult> {
  if (config.mode === 'embedded')
    throw new UsageError(
      'in the embedded mode the sync apps run inside `npm start`, on its in-process bus: ticks published from this process would reach no one, and the hub\'s scheduler already ticks due schedules every minute. To run one now, use "Run now" in the dashboard or POST /api/schedules/<id>/run on the running hub',
    );
  // The wall clock, held still for the step; no start ticks (SCHEDULER_RUN_ON_START is the scheduler app's).
  const stepConfig: AppConfig = {
    ...config,
    scheduler: { ...config.scheduler, clock: 'manual', clockStart: null, runOnStart: [] },
  };
  @Module({ imports: [PlatformModule.forConfig(stepConfig), ...SCHEDULER_FEATURES] })
  class ScheduleRunDueModule {}
  const app = await NestFactory.createApplicationContext(ScheduleRunDueModule, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  try {
    const now = app.get(SchedulerClock).now();
    const schedules = app.get(DataSource).getRepository(Schedule);
    // What is due before the step; the step reads the same rows under lock, with the same instant.
    const before = await schedules.find({
      where: { enabled: true, nextRunAt: LessThanOrEqual(now) },
      order: { nextRunAt: 'ASC' },
    });
    const result = await app.get(SchedulerLoop).step(true);
    if (!result.leader) return { leader: false };
    const after = new Map(
      (before.length ? await schedules.findBy({ id: In(before.map((s) => s.id)) }) : []).map((s) => [s.id, s]),
    );
    const due: DueOutcome[] = [];
    for (const s of before) {
      const now = after.get(s.id);
      // The step sets last_run_at to the slot it ticked, whose run id derives from (schedule, slot).
      const ticked = now?.lastRunAt && now.lastRunAt.getTime() !== s.lastRunAt?.getTime() ? now.lastRunAt : null;
      if (!ticked && now?.nextRunAt?.getTime() === s.nextRunAt?.getTime()) continue; // not taken by this step
      due.push({
        scheduleId: s.id,
        companyId: s.companyId,
        domain: s.domain,
        job: s.jobType,
        slot: ticked ? ticked.toISOString() : null,
        runId: ticked ? scheduledRunId(String(s.id), ticked) : null,
      });
    }
    return { leader: true, now: now.toISOString(), due };
  } finally {
    await app.close();
  }
}

export function printRunDue(result: RunDueResult): string {
  if (!result.leader)
    return 'A scheduler is running and leads (it holds the scheduler.leader lease): it ticks due schedules itself every minute, so nothing was published here. To run one schedule now: POST /api/schedules/<id>/run.\n';
  if (result.due.length === 0) return `Nothing due at ${result.now}.\n`;
  const ticked = result.due.filter((d) => d.runId).length;
  return (
    `${ticked} tick(s) published at ${result.now}:\n` +
    textTable(
      ['schedule', 'company', 'domain/job', 'slot', 'run id'],
      result.due.map((d) => [
        String(d.scheduleId),
        String(d.companyId),
        `${d.domain}/${d.job}`,
        d.slot ?? '-',
        d.runId ?? 'skipped: missed beyond its catch-up window',
      ]),
    )
  );
}
