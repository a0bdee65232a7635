import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';

/**
 * The scheduler's notion of now. `system` is the wall clock; `manual` (SCHEDULER_CLOCK=manual) stands still until
 * POST /__clock moves it, so tests can run hours of schedule in seconds.
 */
@Injectable()
export class SchedulerClock {
  readonly manual: boolean;
  private current: Date;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.manual = config.scheduler.clock === 'manual';
    this.current = config.scheduler.clockStart ?? new Date();
  }

  now(): Date {
    return this.manual ? new Date(this.current) : new Date();
  }

  set(at: Date): void {
    if (!this.manual) throw new Error('the system clock cannot be set');
    this.current = new Date(at);
  }
}
