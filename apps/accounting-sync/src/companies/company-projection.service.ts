import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { CompanyChangedPayload } from '@sync-hub/contracts';
import { Repository } from 'typeorm';
import { CompanyProjection } from './company-projection.entity';

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

  /** 404 for a company the scheduler has not announced (or not yet: creation reaches this app within a moment). */
  async get(id: number): Promise<CompanyProjection> {
    const company = await this.find(id);
    if (!company) throw new NotFoundException(`company ${id} not found`);
    return company;
  }
}
