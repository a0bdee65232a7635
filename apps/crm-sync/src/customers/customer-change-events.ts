import { Logger } from '@nestjs/common';
import { AppConfig } from '@sync-hub/config';
import {
  ChangeType,
  changedFields,
  changeEventMessage,
  ROBAWS_CUSTOMER_RECORD_FIELDS,
  RobawsCustomerRecord,
  Topic,
} from '@sync-hub/contracts';
import { ChangeEventSender, EnqueuedBatch, ReliablePublisher } from '@sync-hub/messaging';
import { hydrate, selectList } from '@sync-hub/persistence';
import { EntityManager } from 'typeorm';
import { RobawsCustomer } from './robaws-customer.entity';

/** One customer's change as a write made it: its record after, and before (none when the write created it). */
export interface CustomerChange {
  changeType: ChangeType;
  record: RobawsCustomerRecord;
  before?: RobawsCustomerRecord;
}

/**
 * Where a write's change events go: the run they carry (null for a webhook's delivery, which no run wrote), and the
 * run's sender, which sends committed batches in the background; without one (a single customer's write) they are
 * sent as soon as the write has committed.
 */
export interface ChangeEventSink {
  runId: string | null;
  sender: ChangeEventSender | null;
}

/**
 * The stored columns a change event's record is made of (the record's fields are the columns' names), and what a pull
 * compares besides (hash, local edit).
 */
const RECORD_COLUMNS = [...ROBAWS_CUSTOMER_RECORD_FIELDS, 'content_hash', 'local_dirty'];

/**
 * The Robaws customer change events (`crm.robaws.customer.changed.v1`, issue 16) of crm-sync's writes: written to the
 * outbox in the write's transaction, sent after it commits. A change whose record fields are all equal (a field of
 * Robaws's record the hub does not map) is no change to the record and sends nothing.
 */
export class CustomerChangeEvents {
  constructor(
    private readonly outbox: ReliablePublisher | undefined,
    private readonly config: AppConfig,
    private readonly logger: Logger,
  ) {}

  /**
   * The events of a write, or null when it sends none: CHANGE_EVENTS without crm, a dry run, or a run without its id
   * (`undefined`; a webhook's delivery, which no run wrote, is `null`). `background`: a run of many batches, whose
   * events a ChangeEventSender sends while the next batches are written (`finish` it at the run's end).
   */
  open(runId: string | null | undefined, options: { dryRun?: boolean; background?: boolean }): ChangeEventSink | null {
    if (options.dryRun || runId === undefined || !this.outbox || !this.config.changeEvents.includes('crm')) return null;
    const sender = options.background
      ? new ChangeEventSender(this.outbox, this.logger, 'Robaws customer change events')
      : null;
    return { runId, sender };
  }

  /**
   * The stored customers of `ids` with the columns of their record, locked on MariaDB until the write commits: the
   * events compare with what the write replaces, not with a version a webhook replaced meanwhile. `notDeleted`: only
   * those not marked deleted_upstream yet.
   */
  async readStored(manager: EntityManager, ids: number[], notDeleted = false): Promise<RobawsCustomer[]> {
    if (ids.length === 0) return [];
    const mysql = manager.connection.options.type === 'mysql';
    const rows: Array<Record<string, unknown>> = await manager.query(
      `SELECT ${selectList(manager, RobawsCustomer, RECORD_COLUMNS)} FROM robaws_customers ` +
        `WHERE robaws_id IN (${ids.map(() => '?').join(', ')})${notDeleted ? ' AND deleted_upstream = 0' : ''}` +
        ` ORDER BY robaws_id${mysql ? ' FOR UPDATE' : ''}`,
      ids,
    );
    return hydrate(manager, RobawsCustomer, rows);
  }

  /** Writes the events of `changes` (those that change the record) to the outbox, in the caller's transaction. */
  async enqueue(
    manager: EntityManager,
    sink: ChangeEventSink,
    changes: CustomerChange[],
    now: Date,
  ): Promise<EnqueuedBatch> {
    const messages = changes.flatMap(({ changeType, record, before }) => {
      const fields = changedFields(ROBAWS_CUSTOMER_RECORD_FIELDS, record, before);
      if (fields.length === 0) return [];
      const change = {
        changeType,
        id: String(record.robaws_id),
        runId: sink.runId,
        occurredAt: now.toISOString(),
        changedFields: fields,
        record,
      };
      return [changeEventMessage(Topic.RobawsCustomerChanged, change)];
    });
    return this.outbox!.enqueueBatch(manager, Topic.RobawsCustomerChanged, messages, now);
  }

  /**
   * After the write's commit: the run's sender takes the batch (and the writer waits while it is far behind), or it is
   * sent now. A send that fails leaves the events in the outbox, whose flush sends them later: only a warning here.
   */
  async committed(sink: ChangeEventSink, batch: EnqueuedBatch): Promise<void> {
    if (batch.rows.length === 0) return;
    if (sink.sender) {
      sink.sender.queue(batch);
      await sink.sender.keepUp();
      return;
    }
    try {
      await this.outbox!.sendEnqueued(batch);
    } catch (err) {
      this.logger.warn(`Robaws customer change events wait in the outbox: ${(err as Error).message}`);
    }
  }
}
