import { EventEnvelope, parseEnvelope } from '@sync-hub/contracts';
import { EventPublisher, OutgoingMessage } from '@sync-hub/messaging';
import { ClassConstructor } from 'class-transformer';

/** One message as the recording bus kept it. */
export interface RecordedMessage<P extends object> {
  topic: string;
  key: string;
  /** The value as JSON, as it goes on the wire. */
  json: string;
  /** The value as a consumer reads it: parsed and validated against the payload's contract class. */
  value: EventEnvelope<P>;
}

/**
 * A bus for the change-event specs: it keeps every message it is given, as a consumer would read it (its JSON,
 * parsed and validated against the payload's contract class). A message that fails the contract goes to `invalid`
 * instead, with the reason; a spec asserts there are none. `down` makes it refuse and report itself unreachable, as a
 * broker that went away, so what was sent stays in the outbox.
 */
export class RecordingBus<P extends object> extends EventPublisher {
  readonly sent: Array<RecordedMessage<P>> = [];
  readonly invalid: string[] = [];
  down = false;

  constructor(private readonly payloadClass: ClassConstructor<P>) {
    super();
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.publishMany([{ topic, messages }]);
  }

  async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    if (this.down) throw new Error('broker unreachable');
    for (const b of batches)
      for (const m of b.messages) {
        const json = JSON.stringify(m.value);
        try {
          this.sent.push({
            topic: b.topic,
            key: m.key,
            json,
            value: parseEnvelope(JSON.parse(json), this.payloadClass),
          });
        } catch (err) {
          this.invalid.push(`${b.topic} ${m.key}: ${(err as Error).message}`);
        }
      }
  }

  isConnected(): boolean {
    return true;
  }

  override async unreachable(): Promise<string | null> {
    return this.down ? 'broker unreachable' : null;
  }

  /** Every payload, in the order sent. */
  payloads(): P[] {
    return this.sent.map((m) => m.value.payload);
  }

  /** The payloads of one topic, with their keys, in the order sent. */
  on(topic: string): Array<{ key: string; change: P }> {
    return this.sent.filter((m) => m.topic === topic).map((m) => ({ key: m.key, change: m.value.payload }));
  }

  /** Each key's payloads, in the order sent. */
  byKey(): Map<string, P[]> {
    const out = new Map<string, P[]>();
    for (const m of this.sent) out.set(m.key, [...(out.get(m.key) ?? []), m.value.payload]);
    return out;
  }
}
