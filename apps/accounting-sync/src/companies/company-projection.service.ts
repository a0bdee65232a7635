import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { CompanyChangedPayload } from '@sync-hub/contracts';
import { Repository } from 'typeorm';
import { CompanyProjection } from './company-projection.entity';

/** How long a run waits for a company this app has not heard of yet (`awaitKnown`) before it fails COMPANY_UNKNOWN. */
export const UNKNOWN_COMPANY_WAIT_MS = 15_000;

/**
 * The companies accounting-sync knows, from the compacted `scheduler.company.changed.v1`. Each message carries the
 * whole company and one key's messages arrive in commit order, so applying them in turn leaves the latest state.
 */
@Injectable()
export class CompanyProjectionService {
  constructor(@InjectRepository(CompanyProjection) private readonly companies: Repository<CompanyProjection>) {}

  async apply(c: CompanyChangedPayload): Promise<void> {
    await this.companies.save(
      this.companies.create({
        id: c.id,
        name: c.name,
        timezone: c.timezone,
        active: c.active,
        updatedAt: new Date(c.updatedAt),
      }),
    );
  }

  /** Companies are never deleted upstream; a tombstone (should an operator write one) forgets the copy. */
  async remove(id: number): Promise<void> {
    await this.companies.delete({ id });
  }

  all(): Promise<CompanyProjection[]> {
    return this.companies.find({ order: { id: 'ASC' } });
  }

  find(id: number): Promise<CompanyProjection | null> {
    return this.companies.findOneBy({ id });
  }

  /**
   * The company, waiting up to `waitMs` while this app does not know it yet; null when it never came. A run's tick and
   * the company's `scheduler.company.changed.v1` travel on different topics, so a run for a company created a moment
   * ago, or for the seeded company 1 just after a first start (the scheduler republishes the companies once it leads),
   * can arrive before the company does. It polls the table: another replica may be the one that applies the event.
   */
  async awaitKnown(
    id: number,
    signal: AbortSignal,
    waitMs = UNKNOWN_COMPANY_WAIT_MS,
    pollMs = 200,
  ): Promise<CompanyProjection | null> {
    const until = Date.now() + waitMs;
    for (;;) {
      signal.throwIfAborted();
      const company = await this.find(id);
      const left = until - Date.now();
      if (company || left <= 0) return company;
      // A cancelled run stops waiting with its own reason, as throwIfAborted gives it.
      await sleep(Math.min(pollMs, left), undefined, { signal }).catch(() => signal.throwIfAborted());
    }
  }

  /** 404 for a company the scheduler has not announced (or not yet: creation reaches this app within a moment). */
  async get(id: number): Promise<CompanyProjection> {
    const company = await this.find(id);
    if (!company) throw new NotFoundException(`company ${id} not found`);
    return company;
  }
}
