import { INestApplication } from '@nestjs/common';
import { CustomStrategy, ServerKafka } from '@nestjs/microservices';
import { AppConfig } from '@sync-hub/config';
import { Observable, Subject } from 'rxjs';
import { InProcessBus, InProcessServer } from './in-process-bus';
import { kafkaServerOptions } from './kafka-options';

/** Nest's Kafka server, plus the moment the consumer joins its group (Nest's "connected" comes before that). */
export class HubKafkaServer extends ServerKafka {
  private readonly joins = new Subject<void>();
  readonly groupJoined: Observable<void> = this.joins.asObservable();

  protected override registerConsumerEventListeners(): void {
    super.registerConsumerEventListeners();
    this.consumer?.on(this.consumer.events.GROUP_JOIN, () => this.joins.next());
  }
}

export type ConsumerTransport = HubKafkaServer | InProcessServer;

/** The consumer side of the bus for a Nest app: Nest's Kafka server, or the in-process server. */
export function createConsumerTransport(
  app: INestApplication,
  config: AppConfig,
): { strategy: ConsumerTransport } & CustomStrategy {
  const strategy = config.kafka
    ? new HubKafkaServer(kafkaServerOptions(config.kafka))
    : new InProcessServer(app.get(InProcessBus));
  return { strategy };
}
