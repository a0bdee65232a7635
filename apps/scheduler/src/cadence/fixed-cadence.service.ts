import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { Domain, envelope, requestedTopic, scheduledRunId, SyncRequestedPayload, tickKey } from '@sync-hub/contracts';
import { EventPublisher } from '@sync-hub/messaging';

/** A fixed cadence: `every` minutes, on minutes divisible by it (seed 004's rule). */
export interface Cadence {
  scheduleId: string;
  domain: Domain;
  job: string;
  companyId: number;
  everyMinutes: number;
}

/** Seed 000: the Splynx customer sync runs hourly. (The schedules table and its API replace this list.) */
export const SEED_CADENCES: Cadence[] = [{ scheduleId: 'seed:splynx.customers', domain: 'splynx', job: 'customers', companyId: 1, everyMinutes: 60 }];

const MINUTE = 60000;

export function slotStart(at: Date, everyMinutes: number): Date {
  const minutes = Math.floor(at.getTime() / MINUTE);
  return new Date((minutes - (minutes % everyMinutes)) * MINUTE);
}

/** A tick for a slot; its run id derives from (schedule, slot), so a tick published twice is one run. */
export function tickFor(cadence: Cadence, slot: Date): SyncRequestedPayload {
  return {
    runId: scheduledRunId(cadence.scheduleId, slot),
    domain: cadence.domain,
    job: cadence.job,
    companyId: cadence.companyId,
    scheduleId: cadence.scheduleId,
    trigger: 'schedule',
    scheduledFor: slot.toISOString(),
    // A tick not reached within its interval is stale: the next slot's tick does the work.
    deadline: new Date(slot.getTime() + cadence.everyMinutes * MINUTE - 1000).toISOString(),
  };
}

/**
 * Publishes the seed cadences' ticks: one at start (SCHEDULER_RUN_ON_START) and one at every slot. The cron side only
 * enqueues; the work happens in the sync apps.
 */
@Injectable()
export class FixedCadenceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(FixedCadenceService.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly publisher: EventPublisher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.scheduler.runOnStart) {
      // At start the current minute is the slot, so a restart within the same minute is the same run.
      setImmediate(() => void this.publish(SEED_CADENCES, () => slotStart(new Date(), 1), 'start'));
    }
    this.scheduleNextMinute();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private scheduleNextMinute(): void {
    const now = Date.now();
    this.timer = setTimeout(() => {
      const at = new Date();
      const due = SEED_CADENCES.filter((c) => Math.floor(at.getTime() / MINUTE) % c.everyMinutes === 0);
      if (due.length > 0) void this.publish(due, (c) => slotStart(at, c.everyMinutes), 'slot');
      this.scheduleNextMinute();
    }, MINUTE - (now % MINUTE) + 50);
  }


  private async publish(cadences: Cadence[], slotOf: (c: Cadence) => Date, why: string): Promise<void> {
    for (const cadence of cadences) {
      const tick = tickFor(cadence, slotOf(cadence));
      try {
        await this.publisher.publish(requestedTopic(cadence.domain), [
          { key: tickKey(tick.companyId, tick.domain, tick.job), value: envelope(`sync.${tick.domain}.requested`, tick, tick.runId) },
        ]);
        this.logger.log(`published ${tick.domain}/${tick.job} tick for ${tick.scheduledFor} (${why}), run ${tick.runId}`);
      } catch (err) {
        this.logger.error(`could not publish ${cadence.domain}/${cadence.job} tick: ${(err as Error).message}`);
      }
    }
  }
}
