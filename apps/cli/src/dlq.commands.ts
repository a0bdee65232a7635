import { randomUUID } from 'node:crypto';
import { KafkaConfig } from '@sync-hub/config';
import { ALL_TOPICS, deadLetterTopic } from '@sync-hub/contracts';
import {
  DEAD_LETTER_HEADERS,
  DLQ_REPLAY_OF_HEADER,
  kafkaClientConfig,
  KafkaEventPublisher,
  RawRecord,
} from '@sync-hub/messaging';
import { InvalidArgumentError } from 'commander';
import { IHeaders, Kafka } from 'kafkajs';
import { textTable } from './table';
import { UsageError } from './usage-error';

/**
 * `dlq:list` and `dlq:replay` (issue 14). A message's id is where it sits on the `.dlq`, `<partition>:<offset>`: it
 * exists for every dead letter, an invalid one without an envelope id included. A replay appends a marker to the
 * `.dlq` (an empty record with header `dlqReplayOf: <id>`), so a second replay of the same id republishes nothing and
 * the list shows when each was replayed.
 */
const MARKER_HEADER = DLQ_REPLAY_OF_HEADER;
const MARKER_TIME_HEADER = 'dlqReplayedAt';
/** On a republished message: the `.dlq` and id it came from. */
const REPLAYED_FROM_HEADER = 'replayedFrom';
const READ_TIMEOUT_MS = 30000;

export interface DeadLetter {
  id: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  /** When it was dead-lettered (its `failedAt`, else the record's time). */
  at: string;
  /** When it was replayed, if it was. */
  replayedAt: string | null;
}

/** `<topic>` or `<topic>.dlq`, for any topic of the hub; anything else is a usage error. */
export function dlqTopics(name: string): { topic: string; dlq: string } {
  const topic = name.endsWith('.dlq') ? name.slice(0, -'.dlq'.length) : name;
  if (!(ALL_TOPICS as string[]).includes(topic))
    throw new UsageError(`unknown topic "${name}": one of ${ALL_TOPICS.join(', ')} (or its .dlq)`);
  return { topic, dlq: deadLetterTopic(topic) };
}

/** `<partition>:<offset>`, as `dlq:list` shows it. */
export function dlqId(value: string): string {
  if (!/^\d+:\d+$/.test(value)) throw new InvalidArgumentError('must be <partition>:<offset> as dlq:list shows it');
  return value;
}

function kafkaOf(kafka: KafkaConfig | null): KafkaConfig {
  if (!kafka)
    throw new UsageError(
      'the dlq commands need KAFKA_BROKERS: the embedded mode has no .dlq topics (its dead letters are logged)',
    );
  return kafka;
}

function text(header: IHeaders[string]): string | null {
  if (header == null) return null;
  return Array.isArray(header) ? header.map(String).join(',') : header.toString();
}

/** Text when the bytes are printable UTF-8, else `0x<hex>` (a dead letter's key may be anything). */
function printable(bytes: Buffer | null): string {
  if (bytes == null) return '(none)';
  const s = bytes.toString('utf8');
  return Buffer.from(s, 'utf8').equals(bytes) && !/[\p{Cc}]/u.test(s) ? s : `0x${bytes.toString('hex')}`;
}

/** Everything on `<topic>.dlq`, oldest first, with the replay markers folded into their messages. */
export async function readDeadLetters(kafkaConfig: KafkaConfig | null, dlq: string): Promise<DeadLetter[]> {
  const kafka = new Kafka(kafkaClientConfig(kafkaOf(kafkaConfig), '-cli'));
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(dlq))
      throw new UsageError(`${dlq} does not exist on KAFKA_BROKERS (npm run cli -- topics:create makes it)`);
    const ends = (await admin.fetchTopicOffsets(dlq)).filter((p) => Number(p.high) > Number(p.low));
    if (ends.length === 0) return [];
    const letters: DeadLetter[] = [];
    const replays = new Map<string, string>();
    const remaining = new Map(ends.map((p) => [p.partition, Number(p.high) - 1]));
    // A group of its own, read from the beginning and deleted after: kafkajs consumes only through a group.
    const groupId = `sync-hub-cli-dlq-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: dlq, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reading ${dlq} did not reach its end within ${READ_TIMEOUT_MS / 1000} s`)),
          READ_TIMEOUT_MS,
        );
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              const headers = message.headers ?? {};
              const replayOf = text(headers[MARKER_HEADER]);
              if (replayOf) replays.set(replayOf, text(headers[MARKER_TIME_HEADER]) ?? '');
              else
                letters.push({
                  id: `${partition}:${message.offset}`,
                  key: message.key,
                  value: message.value,
                  headers,
                  at: text(headers.failedAt) ?? new Date(Number(message.timestamp)).toISOString(),
                  replayedAt: null,
                });
              if (Number(message.offset) >= (remaining.get(partition) ?? -1)) remaining.delete(partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    for (const letter of letters) letter.replayedAt = replays.get(letter.id) ?? null;
    return letters.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  } finally {
    await admin.disconnect();
  }
}

export async function dlqList(kafka: KafkaConfig | null, name: string): Promise<string> {
  const { dlq } = dlqTopics(name);
  const letters = await readDeadLetters(kafka, dlq);
  if (letters.length === 0) return `${dlq}: no dead-lettered messages\n`;
  const replayed = letters.filter((l) => l.replayedAt).length;
  const rows = letters.map((l) => [
    l.id,
    l.at,
    printable(l.key),
    text(l.headers.attempts) ?? '?',
    l.replayedAt ?? '-',
    text(l.headers.error) ?? '(no error header)',
  ]);
  return (
    `${dlq}: ${letters.length} dead-lettered, ${replayed} replayed\n` +
    textTable(['id', 'dead-lettered at', 'key', 'attempts', 'replayed at', 'error'], rows)
  );
}

/**
 * Republishes the dead letters not replayed yet (all, or the one id) to their topic: key, value and original headers
 * byte for byte (the dead-letter headers taken off, `replayedFrom` added), then marks them replayed on the `.dlq`.
 * A replayed tick whose run already ran is not run again: its run id's claim says so.
 */
export async function dlqReplay(
  kafkaConfig: KafkaConfig | null,
  name: string,
  id: string | undefined,
): Promise<{ text: string; republished: number }> {
  const { topic, dlq } = dlqTopics(name);
  const letters = await readDeadLetters(kafkaConfig, dlq);
  let chosen = letters;
  if (id !== undefined) {
    chosen = letters.filter((l) => l.id === id);
    if (chosen.length === 0) throw new UsageError(`no message ${id} on ${dlq} (dlq:list shows the ids)`);
  }
  const done = chosen.filter((l) => l.replayedAt);
  const due = chosen.filter((l) => !l.replayedAt);
  const lines = done.map((l) => `${l.id}: replayed already at ${l.replayedAt}, not republished\n`);
  if (due.length > 0) {
    const publisher = new KafkaEventPublisher(kafkaOf(kafkaConfig));
    await publisher.onModuleInit();
    try {
      const replayedAt = new Date().toISOString();
      await publisher.publishRaw(
        topic,
        due.map((l) => ({ key: l.key, value: l.value, headers: originalHeaders(l, dlq) })),
      );
      await publisher.publishRaw(
        dlq,
        due.map<RawRecord>((l) => ({
          key: l.id,
          value: '',
          headers: { [MARKER_HEADER]: l.id, [MARKER_TIME_HEADER]: replayedAt },
        })),
      );
    } finally {
      await publisher.onApplicationShutdown();
    }
    for (const l of due) lines.push(`${l.id}: republished to ${topic}\n`);
  }
  if (chosen.length === 0) lines.push(`${dlq}: no dead-lettered messages\n`);
  lines.push(`${due.length} republished, ${done.length} replayed already\n`);
  return { text: lines.join(''), republished: due.length };
}

function originalHeaders(letter: DeadLetter, dlq: string): IHeaders {
  const headers: IHeaders = { ...letter.headers };
  for (const name of DEAD_LETTER_HEADERS) delete headers[name];
  headers[REPLAYED_FROM_HEADER] = `${dlq}@${letter.id}`;
  return headers;
}
