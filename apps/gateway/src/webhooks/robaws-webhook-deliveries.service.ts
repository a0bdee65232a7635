import { Injectable, Logger } from '@nestjs/common';
import { Cron } from '@nestjs/schedule';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { RobawsDeliveryBody, robawsWebhookReceivedMessage } from '@sync-hub/contracts';
import { ReliablePublisher } from '@sync-hub/messaging';
import { isDuplicateKeyError, RobawsWebhookDeliveryRow } from '@sync-hub/persistence';
import { DataSource, In, LessThan, Repository } from 'typeorm';

/**
 * How long a delivery id is remembered. Robaws re-sends a failed delivery (same id, freshly signed) for a while; a
 * week is far beyond its retries, and a captured delivery cannot be replayed after 300 s anyway (its signature's
 * timestamp goes stale), so older ids can go.
 */
export const DELIVERY_RETENTION_DAYS = 7;
/** Hourly, at minute 17 (no other housekeeping then). */
export const DELIVERY_PRUNE_CRON = '0 17 * * * *';
const PRUNE_BATCH = 1000;
/** How long an answer waits for the event to reach the bus before it goes anyway. */
const FLUSH_WAIT_MS = 500;

export type DeliveryOutcome = 'accepted' | 'duplicate';

/**
 * Accepts a verified delivery once: its id into `robaws_webhook_deliveries` and its event into the outbox in one
 * transaction, so the event is sent if and only if the id is stored (a crash in between loses nothing and sends
 * nothing twice). A delivery id already stored, by an earlier attempt or another gateway replica, is a duplicate.
 */
@Injectable()
export class RobawsWebhookDeliveries {
  private readonly logger = new Logger(RobawsWebhookDeliveries.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(RobawsWebhookDeliveryRow) private readonly deliveries: Repository<RobawsWebhookDeliveryRow>,
    private readonly outbox: ReliablePublisher,
  ) {}

  async accept(delivery: RobawsDeliveryBody, receivedAt = new Date()): Promise<DeliveryOutcome> {
    try {
      await this.dataSource.transaction(async (m) => {
        await m
          .createQueryBuilder()
          .insert()
          .into(RobawsWebhookDeliveryRow)
          .values({ deliveryId: delivery.id, clientId: delivery.clientId, receivedAt })
          .updateEntity(false)
          .execute();
        await this.outbox.enqueue(m, [robawsWebhookReceivedMessage(delivery, receivedAt)], receivedAt);
      });
    } catch (err) {
      if (isDuplicateKeyError(err)) return 'duplicate';
      throw err;
    }
    // Sent now; the answer waits for that at most FLUSH_WAIT_MS (Robaws gives up after 2 s). A flush still going on
    // then finishes in the background, and if the bus refuses, the outbox's periodic flush sends the event later.
    const flushed = this.outbox
      .flush()
      .catch((err: Error) => this.logger.warn(`Robaws delivery ${delivery.id} waits in the outbox: ${err.message}`));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([flushed, new Promise((resolve) => (timer = setTimeout(resolve, FLUSH_WAIT_MS)))]);
    clearTimeout(timer);
    return 'accepted';
  }

  @Cron(DELIVERY_PRUNE_CRON, { name: 'robaws-webhooks.deliveries.prune', timeZone: 'UTC', waitForCompletion: true })
  async onSchedule(): Promise<void> {
    try {
      await this.prune();
    } catch (err) {
      this.logger.error(`pruning Robaws delivery ids failed; it runs again in an hour: ${(err as Error).message}`);
    }
  }

  /** Deletes delivery ids received more than DELIVERY_RETENTION_DAYS before `now`, in batches; answers how many. */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - DELIVERY_RETENTION_DAYS * 86_400_000);
    let removed = 0;
    for (;;) {
      const ids = (
        await this.deliveries.find({
          select: { deliveryId: true },
          where: { receivedAt: LessThan(cutoff) },
          take: PRUNE_BATCH,
        })
      ).map((r) => r.deliveryId);
      if (ids.length === 0) break;
      const { affected } = await this.deliveries.delete({ deliveryId: In(ids) });
      removed += affected ?? ids.length;
      if (ids.length < PRUNE_BATCH) break;
    }
    if (removed > 0)
      this.logger.log(`removed ${removed} Robaws delivery id(s) received before ${cutoff.toISOString()}`);
    return removed;
  }
}
