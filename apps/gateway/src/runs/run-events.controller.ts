import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RunEventPayload, Topic } from '@sync-hub/contracts';
import { BusContext, MessageProcessor } from '@sync-hub/messaging';
import { NotificationsService } from '../notifications/notifications.service';
import { RunHistoryService } from './run-history.service';

/** Consumes the run events of every sync app into run history. */
@Controller()
export class RunEventsController {
  constructor(
    private readonly processor: MessageProcessor,
    private readonly history: RunHistoryService,
    private readonly notifications: NotificationsService,
  ) {}

  @EventPattern(Topic.RunStarted)
  onStarted(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.process(value, ctx, RunEventPayload, (m) => this.history.record('running', m.payload));
  }

  @EventPattern(Topic.RunCompleted)
  onCompleted(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.process(value, ctx, RunEventPayload, async (m) => {
      await this.history.record('completed', m.payload);
      await this.notifications.onRunFinished('completed', m.payload);
    });
  }

  @EventPattern(Topic.RunFailed)
  onFailed(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.process(value, ctx, RunEventPayload, async (m) => {
      await this.history.record('failed', m.payload);
      await this.notifications.onRunFinished('failed', m.payload);
    });
  }

  @EventPattern(Topic.RunSkipped)
  onSkipped(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.process(value, ctx, RunEventPayload, (m) => this.history.record('skipped', m.payload));
  }
}
