import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { OutboxMessage } from '@sync-hub/persistence';
import { EventPublisher, InProcessEventPublisher, KafkaEventPublisher } from './event-publisher';
import { InProcessBus } from './in-process-bus';
import { MessageProcessor } from './message-processor';
import { ReliablePublisher } from './outbox';

/** The bus for this process: Kafka when KAFKA_BROKERS is set, the in-process bus otherwise. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([OutboxMessage])],
  providers: [
    InProcessBus,
    {
      provide: EventPublisher,
      inject: [APP_CONFIG, InProcessBus],
      useFactory: (config: AppConfig, bus: InProcessBus) =>
        config.kafka ? new KafkaEventPublisher(config.kafka) : new InProcessEventPublisher(bus),
    },
    MessageProcessor,
    ReliablePublisher,
  ],
  exports: [InProcessBus, EventPublisher, MessageProcessor, ReliablePublisher],
})
export class MessagingModule {}
