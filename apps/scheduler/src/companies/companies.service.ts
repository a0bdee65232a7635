import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { CompanyView, CreateCompanyDto, DEFAULT_COMPANY_TIMEZONE, UpdateCompanyDto } from '@sync-hub/contracts';
import { ReliablePublisher } from '@sync-hub/messaging';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { SchedulerClock } from '../clock/clock';
import { lockedQuery, transactionWithEvents } from '../events/transaction-with-events';
import { Company } from './company.entity';
import { companyEvents } from './company-events';

const REPUBLISH_BATCH = 1000;

export class CompanyNotFoundError extends NotFoundException {
  constructor(readonly companyId: number) {
    super(`company ${companyId} not found`);
  }
}

/**
 * Companies (issue 9): create, change, deactivate (`active: false`; never deleted, so nothing that names a company is
 * left dangling). Every change is written with its `scheduler.company.changed.v1` event in one transaction (the
 * transactional outbox), as schedules and settings are, so other apps (accounting-sync) keep a projection instead of
 * reading this table.
 */
@Injectable()
export class CompaniesService {
  private readonly logger = new Logger(CompaniesService.name);
  private readonly createdListeners: Array<(company: Company) => Promise<void>> = [];

  constructor(
    @InjectRepository(Company) private readonly companies: Repository<Company>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: ReliablePublisher,
    private readonly clock: SchedulerClock,
  ) {}

  list(): Promise<Company[]> {
    return this.companies.find({ order: { id: 'ASC' } });
  }

  async get(id: number): Promise<Company> {
    const company = await this.companies.findOneBy({ id });
    if (!company) throw new CompanyNotFoundError(id);
    return company;
  }

  /**
   * For writers of rows that name a company (schedules), inside their own transaction: 404 when it does not exist.
   * Companies are never deleted, so one that exists now still exists when that transaction commits.
   */
  async assertExists(m: EntityManager, id: number): Promise<void> {
    if (!(await m.getRepository(Company).existsBy({ id }))) throw new CompanyNotFoundError(id);
  }

  /** What follows a new company (its default schedules) registers here; awaited after each create commits. */
  onCreated(listener: (company: Company) => Promise<void>): void {
    this.createdListeners.push(listener);
  }

  async create(dto: CreateCompanyDto): Promise<Company> {
    const now = this.clock.now();
    const created = await this.write(async (m, changed) => {
      const company = await m.save(
        m.create(Company, {
          name: dto.name,
          timezone: dto.timezone ?? DEFAULT_COMPANY_TIMEZONE,
          active: dto.active ?? true,
          createdAt: now,
          updatedAt: now,
        }),
      );
      changed.push(company);
      return company;
    });
    for (const listener of this.createdListeners) await listener(created);
    return created;
  }

  /** Changes the fields given; a request that changes nothing writes nothing and publishes nothing. */
  update(id: number, dto: UpdateCompanyDto): Promise<Company> {
    const now = this.clock.now();
    return this.write(async (m, changed) => {
      const company = await lockedQuery(m, Company, 'c').where('c.id = :id', { id }).getOne();
      if (!company) throw new CompanyNotFoundError(id);
      const before = JSON.stringify([company.name, company.timezone, !!company.active]);
      if (dto.name !== undefined) company.name = dto.name;
      if (dto.timezone !== undefined) company.timezone = dto.timezone;
      if (dto.active !== undefined) company.active = dto.active;
      if (JSON.stringify([company.name, company.timezone, !!company.active]) === before) return company;
      company.updatedAt = now;
      const saved = await m.save(company);
      changed.push(saved);
      return saved;
    });
  }

  /**
   * Publishes every company as it is, in batches through the outbox: a projection that started after some changes (or
   * before any event existed: the seeded company, existing installs) becomes complete. On a compacted topic this only
   * adds a newer copy of each key. The scheduler's leader does it once each time it starts leading.
   */
  async republishAll(): Promise<number> {
    let lastId = 0;
    let total = 0;
    for (;;) {
      const rows = await this.write(async (m, changed) => {
        // Locked: a concurrent change of one of these rows commits (and enqueues its event) before or after this
        // batch, never in between, so the topic's order per key stays the order of the writes.
        const batch = await lockedQuery(m, Company, 'c')
          .where('c.id > :lastId', { lastId })
          .orderBy('c.id', 'ASC')
          .limit(REPUBLISH_BATCH)
          .getMany();
        changed.push(...batch);
        return batch;
      });
      total += rows.length;
      if (rows.length < REPUBLISH_BATCH) return total;
      lastId = rows[rows.length - 1].id;
    }
  }

  view(c: Company): CompanyView {
    return {
      id: c.id,
      name: c.name,
      timezone: c.timezone,
      active: !!c.active,
      created_at: new Date(c.createdAt).toISOString(),
      updated_at: new Date(c.updatedAt).toISOString(),
    };
  }

  /** A change and its events in one transaction (the transactional outbox); the events are sent after the commit. */
  private write<T>(work: (m: EntityManager, changed: Company[]) => Promise<T>): Promise<T> {
    return transactionWithEvents(this.dataSource, this.outbox, this.logger, 'company', async (m, events) => {
      const changed: Company[] = [];
      const out = await work(m, changed);
      events.push(...companyEvents(changed));
      return out;
    });
  }
}
