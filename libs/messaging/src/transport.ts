import { INestApplication } from '@nestjs/common';
import { CustomStrategy, KafkaOptions, KafkaParser, ServerKafka } from '@nestjs/microservices';
import { AppConfig } from '@sync-hub/config';
import { KafkaMessage } from 'kafkajs';
import { Observable, Subject } from 'rxjs';
import { RawRecord } from './event-publisher';
import { InProcessBus, InProcessServer } from './in-process-bus';
import { kafkaServerOptions } from './kafka-options';

/**
 * Nest's parser decodes key, value and headers as text (JSON where it parses), which is lossy for bytes that are not
 * UTF-8: it keeps the record's own bytes beside its copy as `raw`, for the dead-letter path.
 */
class RecordKeepingParser extends KafkaParser {
  override parse<T = unknown>(data: KafkaMessage): T {
    const raw: RawRecord = { key: data.key, value: data.value, headers: { ...data.headers } };
    return { ...super.parse<object>(data), raw } as T;
  }
}

/**
 * Nest's Kafka server, plus the moment the consumer joins its group (Nest's "connected" comes before that), and the
 * record's bytes on the context's message (`raw`).
 */
export class HubKafkaServer extends ServerKafka {
  private readonly joins = new Subject<void>();
  readonly groupJoined: Observable<void> = this.joins.asObservable();

  constructor(options: Required<KafkaOptions>['options']) {
    super(options);
    this.parser = new RecordKeepingParser(options.parser);
  }

  /**
   * Nest finds a record's handler by JSON-parsing its topic first, and a topic name is not JSON: every message threw and
   * caught a SyntaxError, a few percent of a ping's CPU in the scenario 3 profile (docs/benchmarks.md, issue 15 part 4).
   * A Kafka topic name cannot start with `{`, `[` or `"`, so only a pattern that does is parsed; any other is its own
   * route, as Nest's fallback makes it.
   */
  protected override getRouteFromPattern(pattern: string): string {
    return /^[[{"]/.test(pattern) ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }

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
