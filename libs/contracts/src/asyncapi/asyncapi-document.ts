import { dump } from 'js-yaml';
import { EventEnvelope } from '../envelope';
import { ALL_TOPICS, COMPACTED_TOPICS, Topic } from '../topics';
import {
  ASYNCAPI_VERSION,
  AsyncApiChannel,
  AsyncApiDocument,
  AsyncApiMessage,
  AsyncApiOperation,
  KAFKA_BINDING,
  ref,
  Ref,
} from './asyncapi-types';
import { deadLetterMessage, dlqChannel, REPLAYED_FROM_HEADER_SCHEMA, replayMarkerMessage } from './dead-letters';
import { canonical, classSchemas, SCHEMA_REF } from './payload-schemas';
import { HubApp, MessageContract, TOPIC_CONTRACTS, TopicContract } from './topic-contracts';

/** The document's id of a topic's channel: its `Topic` member, camelCase (`sync.run.failed.v1` → `runFailed`). */
export function channelId(topic: Topic): string {
  const member = Object.entries(Topic).find(([, value]) => value === topic)?.[0];
  if (!member) throw new Error(`${topic} is not a Topic`);
  return member[0].toLowerCase() + member.slice(1);
}

const dlqChannelId = (topic: Topic) => `${channelId(topic)}Dlq`;
const messageKey = (name: string) => name[0].toLowerCase() + name.slice(1);

const INFO_DESCRIPTION = [
  'Every topic the sync hub produces or consumes: the ticks the scheduler and the gateway publish, the run events of',
  'the sync apps, the scheduler’s compacted state topics, Robaws webhook deliveries, usage changes, and a `.dlq`',
  'twin of each. Generated from libs/contracts (the message classes and functions the apps use), so it describes',
  'what they send and accept; docs/events.md in the repository explains it for consumers.',
  '',
  'Every value is a JSON envelope `{ id, type, version, occurredAt, runId?, payload }`, validated on the way in:',
  'an invalid message goes to `<topic>.dlq` at once. A payload refuses unknown fields. A breaking change is a new',
  'topic (`.v2`), never a change of a `.v1` one.',
].join('\n');

/** Builds the document from the registry (TOPIC_CONTRACTS) and the contract classes. Deterministic. */
export function asyncApiDocument(): AsyncApiDocument {
  const channels: Record<string, AsyncApiChannel> = {};
  const operations: Record<string, AsyncApiOperation> = {};
  const messages: Record<string, AsyncApiMessage> = {};
  const payloadClasses = ALL_TOPICS.flatMap((t) => TOPIC_CONTRACTS[t].messages.flatMap((m) => m.payloadClass ?? []));

  for (const topic of ALL_TOPICS) {
    const contract = TOPIC_CONTRACTS[topic];
    const id = channelId(topic);
    channels[id] = channel(topic, contract);
    for (const m of contract.messages) {
      if (messages[m.name]) throw new Error(`two messages are named ${m.name}`);
      messages[m.name] = message(topic, contract, m);
    }
    const all = contract.messages.map((m) => ref(`#/channels/${id}/messages/${messageKey(m.name)}`));
    for (const [app, why] of entries(contract.producers)) operations[`${app}.send.${id}`] = send(app, id, why, all);
    for (const [app, why] of entries(contract.consumers))
      operations[`${app}.receive.${id}`] = { ...receive(app, id, why, all), bindings: consumerGroup(app) };
    if (keys(contract.consumers).length > 0)
      operations[`cli.send.${id}`] = send('cli', id, '`dlq:replay` republishes dead letters here, as they were', all);
  }
  // The .dlq twins after the topics: every one is alike.
  for (const topic of ALL_TOPICS) {
    const consumers = keys(TOPIC_CONTRACTS[topic].consumers);
    const dlq = dlqChannelId(topic);
    channels[dlq] = dlqChannel(topic, consumers);
    const letter = [ref(`#/channels/${dlq}/messages/deadLetter`)];
    const both = [...letter, ref(`#/channels/${dlq}/messages/replayMarker`)];
    for (const app of consumers)
      operations[`${app}.send.${dlq}`] = send(app, dlq, `a ${topic} message it could not process`, letter);
    operations[`gateway.receive.${dlq}`] = receive('gateway', dlq, 'counts dead letters and replays (metrics)', both);
    operations[`cli.receive.${dlq}`] = receive('cli', dlq, '`dlq:list` and `dlq:replay` read the dead letters', both);
    operations[`cli.send.${dlq}`] = send('cli', dlq, '`dlq:replay` marks each letter it republished', [both[1]]);
  }
  messages.DeadLetter = deadLetterMessage();
  messages.DeadLetterReplayMarker = replayMarkerMessage();

  return {
    asyncapi: ASYNCAPI_VERSION,
    info: { title: 'Sync hub events', version: '1', description: INFO_DESCRIPTION },
    defaultContentType: 'application/json',
    servers: {
      kafka: {
        host: '{bootstrap}',
        protocol: 'kafka',
        title: 'The deployment’s Kafka cluster',
        description:
          'Apache Kafka 4.1 or 3.9 (KRaft), reached at KAFKA_BROKERS. The apps create the topics at start (and the ' +
          'k8s topic Job), with KAFKA_TOPIC_PARTITIONS partitions; the broker should not auto-create topics.',
        variables: { bootstrap: { default: 'localhost:9092', description: 'A broker of KAFKA_BROKERS (host:port).' } },
      },
    },
    channels,
    operations,
    components: {
      schemas: {
        ...classSchemas([EventEnvelope], false),
        MessageHeaders: canonical({
          type: 'object',
          description: 'Kafka headers: none, except on a message replayed from its .dlq.',
          properties: { replayedFrom: REPLAYED_FROM_HEADER_SCHEMA },
        }),
        ...classSchemas(payloadClasses, true),
      },
      messages,
    },
  };
}

function channel(topic: Topic, contract: TopicContract): AsyncApiChannel {
  const compacted = (COMPACTED_TOPICS as readonly string[]).includes(topic);
  return {
    address: topic,
    title: topic,
    summary: contract.summary,
    description: contract.description,
    messages: Object.fromEntries(
      contract.messages.map((m) => [messageKey(m.name), ref(`#/components/messages/${m.name}`)]),
    ),
    bindings: {
      kafka: {
        topic,
        topicConfiguration: { 'cleanup.policy': [compacted ? 'compact' : 'delete'] },
        bindingVersion: KAFKA_BINDING,
      },
    },
  };
}

function message(topic: Topic, contract: TopicContract, m: MessageContract): AsyncApiMessage {
  const example = m.example();
  if (example.topic !== undefined && example.topic !== topic)
    throw new Error(`the example of ${m.name} is a message for ${example.topic}, not ${topic}`);
  const payload = m.payloadClass
    ? {
        allOf: [
          ref(`${SCHEMA_REF}EventEnvelope`),
          {
            type: 'object',
            properties: {
              type: { const: envelopeType(m, example.value) },
              version: { const: 1 },
              payload: ref(`${SCHEMA_REF}${m.payloadClass.name}`),
            },
          },
        ],
      }
    : canonical({
        type: 'null',
        description: 'A tombstone: no value. Compaction drops the key; projections delete it.',
      });
  return {
    name: m.name,
    title: m.title,
    summary: m.summary,
    contentType: 'application/json',
    headers: ref(`${SCHEMA_REF}MessageHeaders`),
    payload,
    bindings: {
      kafka: { key: canonical({ ...contract.key, examples: [example.key] }), bindingVersion: KAFKA_BINDING },
    },
    examples: [{ name: messageKey(m.name), summary: m.summary, payload: example.value }],
  };
}

function envelopeType(m: MessageContract, value: EventEnvelope<object> | null): string {
  if (!value) throw new Error(`the example of ${m.name} has no envelope, though the message has a payload class`);
  return value.type;
}

function send(app: HubApp, channel: string, why: string, messages: Ref[]): AsyncApiOperation {
  return { action: 'send', channel: ref(`#/channels/${channel}`), summary: why, tags: [{ name: app }], messages };
}

function receive(app: HubApp, channel: string, why: string, messages: Ref[]): AsyncApiOperation {
  return { action: 'receive', channel: ref(`#/channels/${channel}`), summary: why, tags: [{ name: app }], messages };
}

function consumerGroup(app: HubApp): AsyncApiOperation['bindings'] {
  return {
    kafka: {
      groupId: { type: 'string', default: app, description: 'KAFKA_GROUP_ID; the app name unless set.' },
      clientId: { type: 'string', const: `sync-hub-${app}-consumer` },
      bindingVersion: KAFKA_BINDING,
    },
  };
}

const entries = (apps: Partial<Record<HubApp, string>>) => Object.entries(apps) as Array<[HubApp, string]>;
const keys = (apps: Partial<Record<HubApp, string>>) => Object.keys(apps) as HubApp[];

/** The document as YAML, as committed in docs/asyncapi.yaml and served by the gateway. */
export function asyncApiYaml(document: AsyncApiDocument = asyncApiDocument()): string {
  return (
    '# Generated from libs/contracts by `npm run asyncapi` (scripts/asyncapi.js): do not edit by hand.\n' +
    dump(document, { noRefs: true, lineWidth: 120 })
  );
}
