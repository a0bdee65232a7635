import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { isDuplicateKeyError } from './errors';
import { JobLease } from './job-lease.entity';

/** The one lease helper every app uses (overlap prevention in the sync apps, leadership in the scheduler). */
@Injectable()
export class JobLeasesService {
  constructor(@InjectRepository(JobLease) private readonly leases: Repository<JobLease>) {}

  /** Takes the lease, or renews it when `owner` already holds it. False while someone else holds it unexpired. */
  async acquire(name: string, owner: string, ttlMs: number, now: Date, runId: string | null = null): Promise<boolean> {
    const expiresAt = new Date(now.getTime() + ttlMs);
    try {
      await this.leases.insert({ name, owner, runId, expiresAt });
      return true;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const taken = await this.leases
      .createQueryBuilder()
      .update(JobLease)
      .set({ owner, runId, expiresAt })
      .where('name = :name AND (owner = :owner OR expires_at < :now)', { name, owner, now })
      .execute();
    return (taken.affected ?? 0) > 0;
  }

  /** Released only by its owner. */
  async release(name: string, owner: string): Promise<void> {
    await this.leases.delete({ name, owner });
  }

  async holder(name: string, now: Date): Promise<JobLease | null> {
    const lease = await this.leases.findOneBy({ name });
    return lease && lease.expiresAt > now ? lease : null;
  }

  /**
   * Inside a transaction: true if `owner` still holds the lease, and (on MySQL) keeps anyone from taking it over until
   * the transaction ends, so work fenced by a lease is never done by two holders.
   */
  async holdsWithin(manager: EntityManager, name: string, owner: string, now: Date): Promise<boolean> {
    const qb = manager.getRepository(JobLease).createQueryBuilder('l').where('l.name = :name', { name });
    if (manager.connection.options.type === 'mysql') qb.setLock('pessimistic_write');
    const lease = await qb.getOne();
    return !!lease && lease.owner === owner && lease.expiresAt > now;
  }
}
