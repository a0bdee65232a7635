import { Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectRepository } from '@nestjs/typeorm';
import { MetricsService } from '@sync-hub/observability';
import { bulkInsert, insertReturningId, OutboxMessage } from '@sync-hub/persistence';
import { EntityManager, Repository } from 'typeorm';
import { EventPublisher, OutgoingMessage } from './event-publisher';
import { StoredBackoff } from './stored-backoff';

const FLUSH_INTERVAL_MS = 5000;
const FLUSH_BATCH = 1000;
/** Messages per send at most: rows of many messages (a page's change events) are taken until this many. */
const FLUSH_MESSAGES = 5000;
/** Messages per outbox row of `enqueueBatch`: a page of 1,500 change events of ~600 bytes is ~1 MB of MEDIUMTEXT. */
const BATCH_ROW_MESSAGES = 2000;
const DELETE_BATCH = 500;
/** Rows per INSERT: ~1 KB each, so a statement stays far below max_allowed_packet (16 MB by default). */
const INSERT_BATCH = 1000;
/** The outbox's depth is counted at most this often, however often /metrics is scraped. */
const DEPTH_METRICS_CACHE_MS = 5000;
/** A batch the bus refused waits 10 s, then 20 s, 40 s, … at most 5 minutes. */
const REFUSED_BACKOFF = new StoredBackoff(2 * FLUSH_INTERVAL_MS, 300_000);

/** `sendEnqueued`'s transaction found older messages of the topic waiting: the flush sends them all, in order. */
const OLDER_WAITING = -1;

/** What `enqueueBatch` wrote: its rows' ids and their messages, each value as JSON text. */
export interface EnqueuedBatch {
  topic: string;
  rows: Array<{ id: number; messages: Array<{ key: string; json: string }> }>;
}

/** An outbox row as the flush reads it. */
interface StoredRow {
  id: number | string;
  topic: string;
  messageKey: string;
  /** null for a row of many messages: read apart, only when it is sent. */
  value: string | null;
  messageCount: number | string;
  attempts: number | string;
  /** 1 when its next attempt is due. */
  due: number | string;
}

/**
 * Publishes events that must not be lost (run events): when the bus refuses a message after the producer's own
 * retries, it is written to `outbox_messages` and flushed later, in order of creation.
 */
@Injectable()
export class ReliablePublisher implements OnModuleDestroy {
  private readonly logger = new Logger(ReliablePublisher.name);
  private flushing: Promise<number> | null = null;
  private readonly stopReportingDepth: () => void;

  constructor(
    private readonly publisher: EventPublisher,
    @InjectRepository(OutboxMessage) private readonly outbox: Repository<OutboxMessage>,
    @Optional() metrics?: MetricsService,
  ) {
    // Every app reports the depth of the one outbox table: any scrape answers for the whole hub.
    this.stopReportingDepth =
      metrics?.addScrapeSource({
        name: 'outbox',
        gauges: [metrics.outboxPending, metrics.outboxOldestAge],
        cacheMs: DEPTH_METRICS_CACHE_MS,
        refresh: async () => {
          const depth = await this.depth();
          metrics.outboxPending.set(depth.pending);
          metrics.outboxOldestAge.set(depth.oldestAgeSeconds);
        },
      }) ?? (() => undefined);
  }

  onModuleDestroy(): void {
    this.stopReportingDepth();
  }

  /** Messages waiting in the outbox (of every app), and the age in seconds of the oldest (0 when none wait). */
  async depth(now = new Date()): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const [oldest] = await this.outbox.find({ order: { id: 'ASC' }, take: 1 });
    if (!oldest) return { pending: 0, oldestAgeSeconds: 0 };
    const pending = Number((await this.outbox.sum('messageCount')) ?? 0);
    return { pending, oldestAgeSeconds: Math.max(0, (now.getTime() - oldest.createdAt.getTime()) / 1000) };
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    try {
      // While the bus is down the message goes to the outbox at once, rather than after a minute of producer retries.
      const unreachable = await this.publisher.unreachable();
      if (unreachable) throw new Error(unreachable);
      await this.publisher.publish(topic, [message]);
    } catch (err) {
      const reason = (err as Error).message;
      this.logger.warn(`bus refused a message for ${topic}, keeping it in the outbox: ${reason}`);
      const now = new Date();
      await this.outbox.insert({
        topic,
        messageKey: message.key,
        value: JSON.stringify(message.value),
        messageCount: 1,
        attempts: 1,
        lastError: reason.slice(0, 2000),
        createdAt: now,
        nextAttemptAt: new Date(now.getTime() + FLUSH_INTERVAL_MS),
      });
    }
  }

  /**
   * Writes messages to the outbox inside the caller's transaction (the transactional outbox): they are sent if and only
   * if the transaction commits. Call `flush()` after the commit.
   */
  async enqueue(
    manager: EntityManager,
    messages: Array<{ topic: string } & OutgoingMessage>,
    now = new Date(),
  ): Promise<void> {
    const rows = messages.map((m) => ({
      topic: m.topic,
      messageKey: m.key,
      value: JSON.stringify(m.value),
      messageCount: 1,
      attempts: 0,
      lastError: null,
      createdAt: now,
      nextAttemptAt: now,
    }));
    // One statement per INSERT_BATCH rows, its tuple repeated (TypeORM's own multi-row build costs ~40 µs a row).
    const repo = manager.getRepository(OutboxMessage);
    for (let i = 0; i < rows.length; i += INSERT_BATCH) await bulkInsert(repo, rows.slice(i, i + INSERT_BATCH));
  }

  /**
   * Many messages of one topic in few outbox rows, inside the caller's transaction: a sync page's change events. After
   * the commit, `sendEnqueued` sends them from memory and deletes their rows; whatever it does not send (a crash, the
   * bus down, older messages of the topic still waiting) the flush sends as it sends any row, in order with the rows
   * around it. A key must not hold a tab or a line break, and the messages carry no headers.
   */
  async enqueueBatch(
    manager: EntityManager,
    topic: string,
    messages: OutgoingMessage[],
    now = new Date(),
  ): Promise<EnqueuedBatch> {
    const enqueued: EnqueuedBatch = { topic, rows: [] };
    if (messages.length === 0) return enqueued;
    for (const m of messages) {
      if (/[\t\r\n]/.test(m.key)) throw new Error(`outbox: a batched message's key holds a tab or a line break`);
      if (m.headers && Object.keys(m.headers).length > 0) throw new Error('outbox: batched messages carry no headers');
    }
    const repo = manager.getRepository(OutboxMessage);
    for (let i = 0; i < messages.length; i += BATCH_ROW_MESSAGES) {
      // Each value serialised once: stored in the row, and sent as it is by `sendEnqueued`.
      const part = messages
        .slice(i, i + BATCH_ROW_MESSAGES)
        .map((m) => ({ key: m.key, json: JSON.stringify(m.value) }));
      const id = await insertReturningId(repo, {
        topic,
        messageKey: part[0].key,
        value: part.length === 1 ? part[0].json : part.map((m) => `${m.key}\t${m.json}`).join('\n'),
        messageCount: part.length,
        attempts: 0,
        lastError: null,
        createdAt: now,
        nextAttemptAt: now,
      });
      enqueued.rows.push({ id, messages: part });
    }
    return enqueued;
  }

  /**
   * Sends committed `enqueueBatch`es from memory, without reading their rows back, and deletes them: under a lock on
   * the rows, so that a flush in another process does not send them too. Batches of several topics go in one request.
   * When older messages of one of the topics wait in the outbox (two pages committed in the other order, a batch the
   * bus refused), it flushes instead, which sends them and these batches in order: a key's messages never overtake
   * each other. Rows another flusher already sent are skipped; what the bus refuses stays for the flush. Returns the
   * messages sent.
   */
  async sendEnqueued(batches: EnqueuedBatch | EnqueuedBatch[]): Promise<number> {
    const list = (Array.isArray(batches) ? batches : [batches]).filter((b) => b.rows.length > 0);
    if (list.length === 0 || (await this.publisher.unreachable())) return 0;
    const mysql = this.outbox.manager.connection.options.type === 'mysql';
    const ids = list.flatMap((b) => b.rows.map((r) => r.id));
    const topics = list.map((b) => b.topic).join(', ');
    const work = async (m: EntityManager): Promise<number> => {
      const marks = ids.map(() => '?').join(', ');
      const locked: Array<{ id: number | string }> = await m.query(
        `SELECT id FROM outbox_messages WHERE id IN (${marks}) ORDER BY id${mysql ? ' FOR UPDATE' : ''}`,
        ids,
      );
      if (locked.length === 0) return 0;
      const present = new Set(locked.map((r) => Number(r.id)));
      // Each topic's first row still here: no older row of the topic may wait behind it.
      const firsts = new Map<string, number>();
      for (const b of list)
        for (const r of b.rows) {
          const first = firsts.get(b.topic);
          if (present.has(r.id) && (first === undefined || r.id < first)) firsts.set(b.topic, r.id);
        }
      const older = [...firsts].map(() => '(topic = ? AND id < ?)').join(' OR ');
      const [{ n }] = await m.query<Array<{ n: number | string }>>(
        `SELECT COUNT(*) AS n FROM outbox_messages WHERE ${older}`,
        [...firsts].flat(),
      );
      if (Number(n) > 0) return OLDER_WAITING;
      const byTopic = new Map<string, OutgoingMessage[]>();
      const sent: number[] = [];
      for (const b of list)
        for (const r of b.rows) {
          if (!present.has(r.id)) continue;
          sent.push(r.id);
          const messages = byTopic.get(b.topic) ?? [];
          for (const x of r.messages) messages.push({ key: x.key, value: this.publisher.storedValue(x.json) });
          byTopic.set(b.topic, messages);
        }
      await this.publisher.publishMany([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      for (let i = 0; i < sent.length; i += DELETE_BATCH) {
        const chunk = sent.slice(i, i + DELETE_BATCH);
        await m.query(`DELETE FROM outbox_messages WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk);
      }
      let count = 0;
      for (const messages of byTopic.values()) count += messages.length;
      return count;
    };
    try {
      const sent = await (mysql
        ? this.outbox.manager.transaction('READ COMMITTED', work)
        : this.outbox.manager.transaction(work));
      return sent === OLDER_WAITING ? await this.flush() : sent;
    } catch (err) {
      // Committed in the outbox: the flush sends it later.
      this.logger.warn(`bus refused ${topics} messages, keeping them in the outbox: ${(err as Error).message}`);
      return 0;
    }
  }

  /** Every few seconds: what the bus refused earlier, and what a crash left between commit and send. */
  @Interval('outbox.flush', FLUSH_INTERVAL_MS)
  async flushDueMessages(): Promise<void> {
    await this.flush();
  }

  /**
   * Sends what the outbox holds, oldest first; returns how many messages went out. One flush at a time per process,
   * and none while the bus is unreachable: a send started then would hold the outbox rows (and the caller: the
   * scheduler's step) through the producer's minute of retries, and could land after the rows were given up on.
   */
  flush(now = new Date()): Promise<number> {
    this.flushing ??= this.flushAll(now).finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async flushAll(now: Date): Promise<number> {
    if (await this.publisher.unreachable()) return 0;
    let sent = 0;
    for (;;) {
      const batch = await this.flushDue(now);
      sent += batch.sent;
      if (!batch.more) return sent;
    }
  }

  /**
   * One batch, sent in one request: grouped by topic, in creation order within each topic (order matters per key, and a
   * key belongs to one topic). The oldest rows are locked while they are sent, so of several processes flushing one
   * outbox (every app flushes it) one sends them and the next waits and finds them gone: a message is not sent twice
   * by two flushers, and a key's messages never overtake each other. If the bus refuses the batch it stays, with
   * backoff, and the rows behind it wait too (head of line), for the same reason.
   */
  private flushDue(now: Date): Promise<{ sent: number; more: boolean }> {
    const mysql = this.outbox.manager.connection.options.type === 'mysql';
    const work = async (m: EntityManager): Promise<{ sent: number; more: boolean }> => {
      // Read as plain rows: no entity per row, and whether each is due decided by the database, on the value as
      // TypeORM stores the column (a flush of a scheduler step reads 200,000 rows).
      const nextAttemptAt = m.connection.getMetadata(OutboxMessage).findColumnWithPropertyName('nextAttemptAt')!;
      const oldest: StoredRow[] = await m.query(
        `SELECT id, topic, message_key AS messageKey, CASE WHEN message_count = 1 THEN value END AS value, ` +
          `message_count AS messageCount, attempts, ` +
          `CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END AS due ` +
          `FROM outbox_messages ORDER BY id LIMIT ${FLUSH_BATCH}${mysql ? ' FOR UPDATE' : ''}`,
        [m.connection.driver.preparePersistentValue(now, nextAttemptAt)],
      );
      const firstWaiting = oldest.findIndex((row) => Number(row.due) !== 1);
      const dueRows = firstWaiting === -1 ? oldest : oldest.slice(0, firstWaiting);
      if (dueRows.length === 0) return { sent: 0, more: false };
      // Rows of many messages count as many: at least one row, then rows while the send stays within FLUSH_MESSAGES.
      let end = 0;
      for (let count = 0; end < dueRows.length; end++) {
        count += Number(dueRows[end].messageCount);
        if (end > 0 && count > FLUSH_MESSAGES) break;
      }
      const due = dueRows.slice(0, end);
      const batchValues = await this.batchValues(m, due);
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const row of due) {
        const messages = byTopic.get(row.topic) ?? [];
        if (Number(row.messageCount) === 1) {
          messages.push({ key: row.messageKey, value: this.publisher.storedValue(row.value!) });
        } else {
          for (const line of batchValues.get(Number(row.id))!.split('\n')) {
            const tab = line.indexOf('\t');
            messages.push({ key: line.slice(0, tab), value: this.publisher.storedValue(line.slice(tab + 1)) });
          }
        }
        byTopic.set(row.topic, messages);
      }
      const ids = due.map((row) => Number(row.id));
      const rows = m.getRepository(OutboxMessage);
      try {
        await this.publisher.publishMany([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      } catch (err) {
        const attempts = Number(due[0].attempts) + 1;
        const backoff = REFUSED_BACKOFF.delayAfter(attempts);
        for (let i = 0; i < ids.length; i += DELETE_BATCH) {
          await rows.update(ids.slice(i, i + DELETE_BATCH), {
            attempts,
            lastError: (err as Error).message.slice(0, 2000),
            nextAttemptAt: new Date(now.getTime() + backoff),
          });
        }
        return { sent: 0, more: false };
      }
      // Plain DELETEs: TypeORM's `delete(ids)` names a parameter per id and checks each new name against those before
      // it, which cost a scheduler step more CPU than the statement took MariaDB (docs/benchmarks.md).
      for (let i = 0; i < ids.length; i += DELETE_BATCH) {
        const chunk = ids.slice(i, i + DELETE_BATCH);
        await m.query(`DELETE FROM outbox_messages WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk);
      }
      const sent = due.reduce((n, row) => n + Number(row.messageCount), 0);
      return {
        sent,
        more: due.length < dueRows.length || (oldest.length === FLUSH_BATCH && due.length === oldest.length),
      };
    };
    // READ COMMITTED on MySQL: the lock covers the rows read, not the gap after them, so new rows can be written
    // meanwhile (a scheduler step's transaction, a refused run event).
    return mysql ? this.outbox.manager.transaction('READ COMMITTED', work) : this.outbox.manager.transaction(work);
  }

  /** The values of the rows of many messages among `rows` (already locked by the flush's read), by id. */
  private async batchValues(m: EntityManager, rows: StoredRow[]): Promise<Map<number, string>> {
    const ids = rows.filter((row) => Number(row.messageCount) !== 1).map((row) => Number(row.id));
    const values = new Map<number, string>();
    if (ids.length === 0) return values;
    const found: Array<{ id: number | string; value: string }> = await m.query(
      `SELECT id, value FROM outbox_messages WHERE id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    for (const row of found) values.set(Number(row.id), row.value);
    return values;
  }
}
