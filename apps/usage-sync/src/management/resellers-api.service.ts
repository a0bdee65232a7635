import { ConflictException, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { CreateResellerBody, ResellerPage, ResellerView, UsagePageQuery } from '@sync-hub/contracts';
import { isDuplicateKeyError } from '@sync-hub/persistence';
import { Repository } from 'typeorm';
import { Reseller, ResellerConfig } from '../model/usage.entities';
import { badFields, decodeIdCursor, encodeIdCursor, resellerView } from './usage-views';

const DEFAULT_LIMIT = 50;

/** The resellers whose configs' usage is synced (issue 13): the list with each one's config count, and creating one. */
@Injectable()
export class ResellersApiService {
  private readonly logger = new Logger(ResellersApiService.name);

  constructor(
    @InjectRepository(Reseller) private readonly resellers: Repository<Reseller>,
    @InjectRepository(ResellerConfig) private readonly configs: Repository<ResellerConfig>,
  ) {}

  /** By id; `next_cursor` continues after the page's last reseller. */
  async list(query: UsagePageQuery): Promise<ResellerPage> {
    const after = query.cursor ? decodeIdCursor(query.cursor) : undefined;
    if (after === null) throw badFields({ cursor: ['not a cursor this API gave out'] });
    const limit = query.limit ?? DEFAULT_LIMIT;
    const qb = this.resellers.createQueryBuilder('r');
    if (after) qb.where('r.id > :after', { after });
    const rows = await qb
      .orderBy('r.id', 'ASC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const counts = new Map<number, number>();
    if (page.length) {
      const raw: Array<{ reseller_id: unknown; total: unknown }> = await this.configs
        .createQueryBuilder('c')
        .select('c.resellerId', 'reseller_id')
        .addSelect('COUNT(*)', 'total')
        .where('c.resellerId IN (:...ids)', { ids: page.map((r) => r.id) })
        .groupBy('c.resellerId')
        .getRawMany();
      for (const r of raw) counts.set(Number(r.reseller_id), Number(r.total));
    }
    return {
      data: page.map((r) => resellerView(r, counts.get(r.id) ?? 0)),
      next_cursor: rows.length > limit ? encodeIdCursor(page[page.length - 1].id) : null,
    };
  }

  /** Names are unique: a second reseller of the same name is a 409. */
  async create(body: CreateResellerBody): Promise<ResellerView> {
    const now = new Date();
    try {
      const row = await this.resellers.save(this.resellers.create({ name: body.name, createdAt: now, updatedAt: now }));
      this.logger.log(`reseller ${row.id} (${row.name}) created`);
      return resellerView(row, 0);
    } catch (err) {
      if (isDuplicateKeyError(err))
        throw new ConflictException(`a reseller named "${body.name}" exists already: reseller names are unique`);
      throw err;
    }
  }
}
