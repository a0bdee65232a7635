import { EventEnvelope } from '../envelope';
import { SyncRequestedPayload } from '../sync-requested';
import { deadLetterTopic, Topic } from '../topics';
import { parseEnvelope } from '../validation';
import { AsyncApiChannel, AsyncApiMessage, KAFKA_BINDING, ref } from './asyncapi-types';
import { tickExample } from './examples';
import { canonical, JsonSchema } from './payload-schemas';
import { HubApp } from './topic-contracts';

/**
 * What the document says of the `.dlq` topics. The header names are the ones libs/messaging writes
 * (DEAD_LETTER_HEADERS, DLQ_REPLAY_OF_HEADER); the spec of this document checks they stay the same.
 */
export const DEAD_LETTER_HEADER_SCHEMAS: Record<string, JsonSchema> = {
  error: {
    type: 'string',
    maxLength: 1000,
    description: 'Why: the validation problems (each bad field) or the last handler error.',
  },
  attempts: {
    type: 'string',
    pattern: '^[0-9]+$',
    description: '0: invalid, never handled (fix the producer, not the message); N: its handler failed N times.',
  },
  failedAt: { type: 'string', format: 'date-time', description: 'When it was dead-lettered.' },
  originalTopic: { type: 'string', description: 'The topic it was read from.' },
  originalPartition: { type: 'string', pattern: '^[0-9]+$', description: 'Its partition there (Kafka only).' },
  originalOffset: { type: 'string', pattern: '^[0-9]+$', description: 'Its offset there (Kafka only).' },
};

const REPLAY_MARKER_HEADER_SCHEMAS: Record<string, JsonSchema> = {
  dlqReplayOf: {
    type: 'string',
    pattern: '^[0-9]+:[0-9]+$',
    description: 'The id (<partition>:<offset>) of the dead letter replayed.',
  },
  dlqReplayedAt: { type: 'string', format: 'date-time', description: 'When dlq:replay republished it.' },
};

/** The header a message republished by `dlq:replay` carries on its original topic. */
export const REPLAYED_FROM_HEADER_SCHEMA: JsonSchema = {
  type: 'string',
  description: 'Set on a message republished by `dlq:replay`: <topic>.dlq@<partition>:<offset> of the dead letter.',
};

const DEAD_LETTER_DESCRIPTION =
  'A message a consumer could not process, kept for an operator: its original key, value and headers byte for byte ' +
  "(the value is normally the original topic's envelope, but may be anything the producer sent: not JSON, not an " +
  'envelope, a tombstone), with the dead-letter headers added (replacing an original header of the same name). ' +
  'Invalid messages come here at once (attempts 0); messages whose handler keeps failing after KAFKA_MAX_ATTEMPTS ' +
  'tries (attempts N). An outage of the database or the bus never dead-letters: the partition waits. ' +
  '`npm run cli -- dlq:list <topic>` lists them and `dlq:replay <topic>` republishes them to the original topic.';

const REPLAY_MARKER_DESCRIPTION =
  "Written by `dlq:replay` after republishing a dead letter: an empty value keyed by the letter's id, so a second " +
  'replay of the same id republishes nothing. Not a dead letter: readers of a .dlq skip it.';

export function dlqChannel(topic: Topic, consumers: HubApp[]): AsyncApiChannel {
  return {
    address: deadLetterTopic(topic),
    title: deadLetterTopic(topic),
    summary: `Dead letters of ${topic}.`,
    description:
      (consumers.length > 0
        ? `What ${consumers.join(', ')} could not process from ${topic}, with why (see the DeadLetter message).`
        : `No app of the hub reads ${topic} yet, so nothing is dead-lettered here yet.`) +
      ' Never compacted; `npm run cli -- dlq:list` / `dlq:replay` read and replay it.',
    messages: {
      deadLetter: ref('#/components/messages/DeadLetter'),
      replayMarker: ref('#/components/messages/DeadLetterReplayMarker'),
    },
    bindings: {
      kafka: {
        topic: deadLetterTopic(topic),
        topicConfiguration: { 'cleanup.policy': ['delete'] },
        bindingVersion: KAFKA_BINDING,
      },
    },
  };
}

export function deadLetterMessage(): AsyncApiMessage {
  const tick = tickExample('splynx');
  const value = { ...(tick.value as EventEnvelope<SyncRequestedPayload>) };
  value.payload = { ...value.payload, companyId: 0 };
  return {
    name: 'DeadLetter',
    title: 'dead letter',
    summary: 'A message a consumer could not process, with why.',
    description: DEAD_LETTER_DESCRIPTION,
    contentType: 'application/json',
    headers: canonical({
      type: 'object',
      description: 'The original headers, and these.',
      properties: DEAD_LETTER_HEADER_SCHEMAS,
      required: ['error', 'attempts', 'failedAt', 'originalTopic'],
    }),
    payload: { description: 'The original value, byte for byte: normally the envelope of the original topic.' },
    bindings: {
      kafka: {
        key: canonical({ type: 'string', description: 'The original key, byte for byte.', examples: [tick.key] }),
        bindingVersion: KAFKA_BINDING,
      },
    },
    examples: [
      {
        name: 'invalidTick',
        summary: `A tick refused as invalid (companyId 0), on ${deadLetterTopic(Topic.SplynxRequested)}.`,
        headers: {
          error: validationError(value),
          attempts: '0',
          failedAt: '2026-11-21T06:00:00.120Z',
          originalTopic: Topic.SplynxRequested,
          originalPartition: '2',
          originalOffset: '1841',
        },
        payload: value,
      },
    ],
  };
}

/** The error header the consumer writes for an invalid tick: the validation's own message. */
function validationError(value: unknown): string {
  try {
    parseEnvelope(value, SyncRequestedPayload);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the dead-letter example is a valid tick');
}

export function replayMarkerMessage(): AsyncApiMessage {
  return {
    name: 'DeadLetterReplayMarker',
    title: 'replay marker',
    summary: 'dlq:replay republished the dead letter this names.',
    description: REPLAY_MARKER_DESCRIPTION,
    contentType: 'application/octet-stream',
    headers: canonical({
      type: 'object',
      properties: REPLAY_MARKER_HEADER_SCHEMAS,
      required: Object.keys(REPLAY_MARKER_HEADER_SCHEMAS),
    }),
    payload: canonical({ type: 'string', maxLength: 0, description: 'Empty.' }),
    bindings: {
      kafka: {
        key: canonical({
          type: 'string',
          description: 'The id of the dead letter, <partition>:<offset>.',
          pattern: '^[0-9]+:[0-9]+$',
          examples: ['2:1841'],
        }),
        bindingVersion: KAFKA_BINDING,
      },
    },
    examples: [
      {
        name: 'replayed',
        summary: 'The letter 2:1841 was replayed.',
        headers: { dlqReplayOf: '2:1841', dlqReplayedAt: '2026-11-21T09:30:00.000Z' },
        payload: '',
      },
    ],
  };
}
