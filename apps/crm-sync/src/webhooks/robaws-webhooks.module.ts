import { Module } from '@nestjs/common';
import { RobawsCustomersModule } from '../customers/customers.module';
import { RobawsWebhookController } from './robaws-webhook.controller';

/** crm-sync's side of Robaws's webhooks: the verified deliveries the gateway publishes, applied to the cache. */
@Module({
  imports: [RobawsCustomersModule],
  controllers: [RobawsWebhookController],
})
export class RobawsWebhookConsumerModule {}
