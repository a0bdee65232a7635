import { Logger } from '@nestjs/common';
import { EnqueuedBatch, ReliablePublisher } from './outbox';

/** Change events per send of committed pages (as the outbox's flush sends at most). */
const SEND_MESSAGES = 2000;
/**
 * Committed change events a sender may hold before the writers wait for it (~600 bytes each): a full sync of 1,000,000
 * records writes faster than kafkajs sends, and the backlog would grow with the table.
 */
const MAX_UNSENT_MESSAGES = 2_000;
/** How long a run's end waits for its last change events to be sent (they are safe in the outbox either way). */
const FINAL_FLUSH_WAIT_MS = 10_000;

/**
 * One run's change events (issue 16), sent after each page's transaction commits. The page writes its rows and
 * `outbox.enqueueBatch(...)` in one transaction and hands the answer to `queue`; the events go out in commit order,
 * in the background, so the next pages do not wait for the bus. What cannot be sent now (the bus is down, older
 * events of the topic wait) stays in the outbox, and its flush sends it in order. `finish` at the run's end.
 */
export class ChangeEventSender {
  private sending: Promise<void> = Promise.resolve();
  /** Committed batches not handed to a send yet, in commit order: a send takes all that wait, up to SEND_MESSAGES. */
  private unsent: EnqueuedBatch[] = [];
  /** Events of the send under way. */
  private inFlight = 0;

  constructor(
    private readonly outbox: ReliablePublisher,
    private readonly logger: Logger,
    /** What the log lines call the events ("customer change events"). */
    private readonly what = 'change events',
  ) {}

  /** A committed transaction's events, sent after those queued before. */
  queue(batch: EnqueuedBatch): void {
    if (batch.rows.length === 0) return;
    const idle = this.unsent.length === 0;
    const last = this.unsent[this.unsent.length - 1];
    if (last && last.topic === batch.topic) last.rows.push(...batch.rows);
    else this.unsent.push({ topic: batch.topic, rows: [...batch.rows] });
    if (!idle) return; // a send is queued already: it takes these rows too
    this.sending = this.sending.then(async () => {
      // Every batch committed while the previous send was out goes in one send, whatever its topic (one request):
      // the sender keeps up with the writers. Whole outbox rows, from the oldest, so each topic keeps its order.
      while (this.unsent.length > 0) {
        const take: EnqueuedBatch[] = [];
        let messages = 0;
        while (this.unsent.length > 0 && messages < SEND_MESSAGES) {
          const head = this.unsent[0];
          const rows: EnqueuedBatch['rows'] = [];
          while (head.rows.length > 0 && (messages === 0 || messages < SEND_MESSAGES)) {
            const row = head.rows.shift()!;
            rows.push(row);
            messages += row.messages.length;
          }
          take.push({ topic: head.topic, rows });
          if (head.rows.length === 0) this.unsent.shift();
        }
        this.inFlight = messages;
        try {
          await this.outbox.sendEnqueued(take);
        } catch (err) {
          this.logger.warn(`${this.what} wait in the outbox: ${(err as Error).message}`);
        } finally {
          this.inFlight = 0;
        }
      }
    });
  }

  /** Events committed and not sent yet (the send under way included). */
  get backlog(): number {
    let n = this.inFlight;
    for (const batch of this.unsent) for (const row of batch.rows) n += row.messages.length;
    return n;
  }

  /** Memory flat whatever the run's size: a writer waits here while the sender is behind. */
  async keepUp(): Promise<void> {
    while (this.backlog > MAX_UNSENT_MESSAGES) await this.sending;
  }

  /**
   * At the run's end: the queued sends, then the outbox flushed (twice: a flush already under way may have read the
   * outbox before the last batch's events fell back to it), but not past FINAL_FLUSH_WAIT_MS, so a broker lost
   * mid-send (the producer then retries for a minute) does not hold the run's end: its events are committed in the
   * outbox and go out with the next flush.
   */
  async finish(): Promise<void> {
    const flush = () =>
      this.outbox.flush().then(
        () => undefined,
        (err: Error) => this.logger.warn(`${this.what} wait in the outbox: ${err.message}`),
      );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, FINAL_FLUSH_WAIT_MS)));
    try {
      await Promise.race([this.sending.then(flush).then(flush), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
