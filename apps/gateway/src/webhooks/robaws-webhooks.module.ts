import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RobawsWebhookDeliveryRow, RobawsWebhookEndpointRow } from '@sync-hub/persistence';
import { RobawsWebhookDeliveries } from './robaws-webhook-deliveries.service';
import { RobawsWebhookSecrets } from './robaws-webhook-secrets.service';
import { RobawsWebhooksController } from './robaws-webhooks.controller';

/** Robaws's signed customer webhooks (issue 11): verified here, applied by crm-sync from the bus. */
@Module({
  imports: [TypeOrmModule.forFeature([RobawsWebhookEndpointRow, RobawsWebhookDeliveryRow])],
  controllers: [RobawsWebhooksController],
  providers: [RobawsWebhookSecrets, RobawsWebhookDeliveries],
})
export class RobawsWebhooksModule {}
