import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ScheduleChangedPayload, Topic } from '@sync-hub/contracts';
import { BusContext, MessageProcessor } from '@sync-hub/messaging';
import { ScheduleProjectionService } from './schedule-projection.service';

/** Consumes the scheduler's schedule changes (and deletions, as tombstones) into the gateway's projection. */
@Controller()
export class ScheduleChangesController {
  constructor(
    private readonly processor: MessageProcessor,
    private readonly projection: ScheduleProjectionService,
  ) {}

  @EventPattern(Topic.ScheduleChanged)
  onChanged(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.processCompacted(
      value,
      ctx,
      ScheduleChangedPayload,
      async (m) => void (await this.projection.apply(m.payload, new Date(m.occurredAt))),
      async (key) => {
        if (!/^\d+$/.test(key)) throw new Error(`a tombstone's key must be a schedule id, got "${key}"`);
        await this.projection.remove(Number(key));
      },
    );
  }
}
