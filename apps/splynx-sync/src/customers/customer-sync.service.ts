import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { RunStats } from '@sync-hub/contracts';
import { bulkUpsert } from '@sync-hub/persistence';
import { attachStats } from '@sync-hub/runs';
import { Repository } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { SplynxClient } from './splynx.client';
import { SplynxCustomer } from './splynx-customer.entity';
import { MalformedCustomerError, mapSplynxCustomer, SplynxCustomerRow } from './splynx-customer.mapper';

export interface CustomerSyncOptions {
  /** Fetch and compare only; write nothing. */
  dryRun?: boolean;
  /** Stop after this many customers. A limited run never deactivates anything. */
  limit?: number;
  /** Aborted at the run's time limit: the sync stops between pages and deactivates nothing. */
  signal?: AbortSignal;
}

export interface CustomerSyncStats extends RunStats {
  deactivated: number;
}

/** Rows per INSERT … ON DUPLICATE KEY UPDATE: the page, unless a huge page size would pass the bind-variable limit. */
const MAX_ROWS_PER_STATEMENT = 1500;
const DEACTIVATION_SCAN = 5000;
/** The columns a sync writes besides the key `splynx_id` (the benchmark's ceiling writes the same). */
export const SPLYNX_CUSTOMER_COLUMNS = [
  'login',
  'name',
  'email',
  'phone',
  'status',
  'category',
  'billing_type',
  'partner_id',
  'location_id',
  'date_add',
  'last_update',
  'raw',
  'content_hash',
  'synced_at',
  'active',
];

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Mirrors Splynx customers into `splynx_customers` (seed 000), one page at a time: each page is compared with the
 * stored content hashes and only new or changed customers are written, in one multi-row upsert. Memory holds one
 * page and the set of ids seen. After a complete run, customers Splynx no longer has are marked inactive.
 */
@Injectable()
export class CustomerSyncService {
  private readonly logger = new Logger(CustomerSyncService.name);

  constructor(
    private readonly splynx: SplynxClient,
    @InjectRepository(SplynxCustomer) private readonly customers: Repository<SplynxCustomer>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(options: CustomerSyncOptions = {}): Promise<CustomerSyncStats> {
    const stats: CustomerSyncStats = {
      fetched: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      deactivated: 0,
    };
    const seen = new Set<number>();
    try {
      // Three stages at once: page N+1 is fetched while page N is mapped and page N-1 is written (at most one write in
      // flight). Keyset pages never share an id, so their writes do not depend on each other.
      const pages = this.splynx.customerPages(this.config.splynx.pageSize, options.limit);
      let next = pages.next();
      let writing: Promise<void> = Promise.resolve();
      for (;;) {
        const current = await next;
        options.signal?.throwIfAborted();
        if (current.done) break;
        next = pages.next();
        next.catch(() => undefined); // a failure is seen when awaited, not reported as unhandled meanwhile
        const page = current.value;
        stats.fetched += page.length;
        const rows = this.mapPage(page, seen, stats);
        await writing;
        writing = this.applyPage(rows, stats, options.dryRun ?? false);
        writing.catch(() => undefined);
      }
      await writing;
      options.signal?.throwIfAborted();
      if (options.limit === undefined) {
        stats.deactivated = await this.deactivateVanished(seen, options.dryRun ?? false);
      }
      return stats;
    } catch (err) {
      throw attachStats(err, stats);
    }
  }

  private mapPage(page: unknown[], seen: Set<number>, stats: CustomerSyncStats): SplynxCustomerRow[] {
    const rows: SplynxCustomerRow[] = [];
    for (const raw of page) {
      try {
        const row = mapSplynxCustomer(raw);
        if (seen.has(row.splynxId)) continue; // already handled on an earlier page
        seen.add(row.splynxId);
        rows.push(row);
      } catch (err) {
        if (!(err instanceof MalformedCustomerError)) throw err;
        stats.failed++;
        // Splynx still has this customer: it must not be deactivated for being unreadable today.
        if (err.customerId !== null) seen.add(err.customerId);
        this.logger.warn(
          { customerId: err.customerId, problems: err.problems },
          `skipping malformed Splynx customer ${err.customerId ?? '(no id)'}`,
        );
      }
    }
    return rows;
  }

  private async applyPage(rows: SplynxCustomerRow[], stats: CustomerSyncStats, dryRun: boolean): Promise<void> {
    if (rows.length === 0) return;
    const stored = new Map<number, { hash: string; active: boolean }>();
    for (const ids of chunks(
      rows.map((r) => r.splynxId),
      MAX_ROWS_PER_STATEMENT,
    )) {
      const found = await this.customers
        .createQueryBuilder('c')
        .select('c.splynx_id', 'id')
        .addSelect('c.content_hash', 'hash')
        .addSelect('c.active', 'active')
        .where('c.splynx_id IN (:...ids)', { ids })
        .getRawMany<{ id: number | string; hash: string; active: number | boolean | string }>();
      for (const f of found)
        stored.set(Number(f.id), { hash: f.hash, active: Number(f.active) === 1 || f.active === true });
    }

    const syncedAt = new Date();
    const changed: Array<SplynxCustomerRow & { syncedAt: Date; active: boolean }> = [];
    for (const row of rows) {
      const existing = stored.get(row.splynxId);
      if (!existing) stats.created++;
      else if (existing.hash !== row.contentHash || !existing.active) stats.updated++;
      else {
        stats.unchanged++;
        continue;
      }
      changed.push({ ...row, syncedAt, active: true });
    }
    if (dryRun || changed.length === 0) return;
    for (const batch of chunks(changed, MAX_ROWS_PER_STATEMENT)) {
      await bulkUpsert(this.customers, batch as QueryDeepPartialEntity<SplynxCustomer>[], SPLYNX_CUSTOMER_COLUMNS, [
        'splynx_id',
      ]);
    }
  }

  /** Marks inactive every active customer this complete run did not see; never deletes. */
  private async deactivateVanished(seen: Set<number>, dryRun: boolean): Promise<number> {
    let deactivated = 0;
    let afterId = 0;
    for (;;) {
      const batch = await this.customers
        .createQueryBuilder('c')
        .select('c.splynx_id', 'id')
        .where('c.active = 1 AND c.splynx_id > :afterId', { afterId })
        .orderBy('c.splynx_id', 'ASC')
        .limit(DEACTIVATION_SCAN)
        .getRawMany<{ id: number | string }>();
      if (batch.length === 0) return deactivated;
      const ids = batch.map((b) => Number(b.id));
      afterId = ids[ids.length - 1];
      const vanished = ids.filter((id) => !seen.has(id));
      deactivated += vanished.length;
      if (!dryRun && vanished.length > 0) {
        await this.customers
          .createQueryBuilder()
          .update(SplynxCustomer)
          .set({ active: false, syncedAt: new Date() })
          .where('splynx_id IN (:...ids)', { ids: vanished })
          .execute();
      }
    }
  }
}
