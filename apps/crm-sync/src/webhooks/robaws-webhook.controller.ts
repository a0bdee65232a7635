import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RobawsWebhookReceivedPayload, Topic } from '@sync-hub/contracts';
import { BusContext, MessageProcessor } from '@sync-hub/messaging';
import { CustomerPullService } from '../customers/customer-pull.service';
import type { RobawsClientRecord } from '../customers/normalise';

/**
 * Applies the Robaws deliveries the gateway verified (`crm.robaws.webhook.received.v1`): the full client record is
 * upserted as a pull would, unless a version at least as new is stored, so an older event arriving late changes
 * nothing and a redelivered one is counted unchanged.
 */
@Controller()
export class RobawsWebhookController {
  private readonly logger = new Logger(RobawsWebhookController.name);

  constructor(
    private readonly processor: MessageProcessor,
    private readonly customers: CustomerPullService,
  ) {}

  @EventPattern(Topic.RobawsWebhookReceived)
  onWebhookReceived(@Payload() value: unknown, @Ctx() ctx: BusContext): Promise<void> {
    return this.processor.process(value, ctx, RobawsWebhookReceivedPayload, async ({ payload }) => {
      if (Number(payload.record.id) !== payload.clientId)
        // The gateway takes clientId from the record, so only a foreign producer gets here: it ends in the .dlq.
        throw new Error(`payload.record.id is not the client id ${payload.clientId}`);
      const outcome = await this.customers.applyRecord(payload.record as RobawsClientRecord);
      this.logger.log(
        `Robaws delivery ${payload.deliveryId} (${payload.event}, client ${payload.clientId}): ${outcome}`,
      );
    });
  }
}
