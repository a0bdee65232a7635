import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ScheduleChangedPayload, SettingChangedPayload, Topic } from '@sync-hub/contracts';
import { BusContext, MessageProcessor } from '@sync-hub/messaging';
import { ScheduleProjectionService } from './schedule-projection.service';
import { SettingProjectionService } from './setting-projection.service';

/**
 * Consumes the scheduler's compacted state topics into the gateway's projections: schedule changes (and deletions, as
 * tombstones) and setting changes.
 */
@Controller()
export class SchedulerChangesController {
  constructor(
    private readonly processor: MessageProcessor,
    private readonly schedules: ScheduleProjectionService,
    private readonly settings: SettingProjectionService,
  ) {}

  @EventPattern(Topic.ScheduleChanged)
  onScheduleChanged(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.processCompacted(
      value,
      ctx,
      ScheduleChangedPayload,
      async (m) => void (await this.schedules.apply(m.payload, new Date(m.occurredAt))),
      async (key) => {
        if (!/^\d+$/.test(key)) throw new Error(`a tombstone's key must be a schedule id, got "${key}"`);
        await this.schedules.remove(Number(key));
      },
    );
  }

  @EventPattern(Topic.SettingChanged)
  onSettingChanged(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.processCompacted(
      value,
      ctx,
      SettingChangedPayload,
      async (m) => void (await this.settings.apply(m.payload, new Date(m.occurredAt))),
      (key) => this.settings.remove(key),
    );
  }
}
