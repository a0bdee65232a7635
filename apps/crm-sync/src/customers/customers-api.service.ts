import { ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import {
  CustomerPage,
  CustomerRunView,
  CustomerView,
  DuplicateGroupView,
  DuplicatesView,
  JobDeclaration,
  ListCustomersQuery,
  ListDuplicatesQuery,
  ROBAWS_CUSTOMERS_INCREMENTAL,
  ROBAWS_CUSTOMERS_PUSH,
  SyncRequestedPayload,
} from '@sync-hub/contracts';
import { RunExecutor } from '@sync-hub/runs';
import { Brackets, In, Repository, WhereExpressionBuilder } from 'typeorm';
import { applyEdit, checkEdit } from './customer-edits';
import { CustomerPushService } from './customer-push.service';
import { badFields, customerView, decodeCustomerCursor, encodeCustomerCursor } from './customer-views';
import { normalisePhone, normaliseVat } from './normalise';
import { RobawsCustomer } from './robaws-customer.entity';

const DEFAULT_LIMIT = 50;
const DEFAULT_DUPLICATE_GROUPS = 100;
/**
 * The company the Robaws customer runs are recorded under. Robaws is one account for the whole hub, not a company's;
 * the run history and the job lease are per company, so every Robaws customer run (scheduled, the CLI's, these) uses
 * company 1, the company every install has: then a manual run and a scheduled one share the lease.
 */
export const ROBAWS_COMPANY_ID = 1;
/** A PATCH racing a pull of the same customer reads it again this many times before giving up (409). */
const EDIT_ATTEMPTS = 3;

/** What a manual run for one customer came to: it ran (completed or failed), or a Robaws customer job held the lease. */
export type CustomerRunResult =
  | { kind: 'ran'; view: CustomerRunView }
  | { kind: 'busy'; message: string; runId: string; reason: string; customer: CustomerView | null };

/** `%`, `_` and `!` taken literally in a LIKE pattern with `ESCAPE '!'` (one escape character MySQL and SQLite share). */
function likeEscaped(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

/**
 * The Robaws customers API of crm-sync (issue 11, "Local edits and push"): the list with search and filters, one
 * customer, a local edit, a run of the pull or the push for one customer, resolving a conflict, and possible duplicates.
 */
@Injectable()
export class CustomersApiService {
  private readonly logger = new Logger(CustomersApiService.name);

  constructor(
    @InjectRepository(RobawsCustomer) private readonly customers: Repository<RobawsCustomer>,
    private readonly executor: RunExecutor,
    private readonly push: CustomerPushService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get defaultCountry(): string {
    return this.config.crm.robaws.defaultCountry;
  }

  /** By name (no name sorts first), then Robaws id; `next_cursor` continues after the page's last row. */
  async list(query: ListCustomersQuery): Promise<CustomerPage> {
    const after = query.cursor ? decodeCustomerCursor(query.cursor) : undefined;
    if (after === null) throw badFields({ cursor: ['not a cursor this API gave out'] });
    const limit = query.limit ?? DEFAULT_LIMIT;
    const qb = this.customers.createQueryBuilder('c');
    const name = "COALESCE(c.name, '')";
    if (query.role) qb.andWhere('c.role = :role', { role: query.role });
    if (query.dirty === 'true') qb.andWhere('(c.localDirty IS NOT NULL OR c.conflict IS NOT NULL)');
    if (query.dirty === 'false') qb.andWhere('c.localDirty IS NULL AND c.conflict IS NULL');
    const q = query.q?.trim();
    if (q) qb.andWhere(new Brackets((where) => this.search(where, q)));
    if (after)
      qb.andWhere(`(${name} > :afterName OR (${name} = :afterName AND c.robawsId > :afterId))`, {
        afterName: after.name,
        afterId: after.id,
      });
    const rows = await qb
      .orderBy(name, 'ASC')
      .addOrderBy('c.robawsId', 'ASC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    return {
      data: page.map(customerView),
      next_cursor: rows.length > limit ? encodeCustomerCursor(page[page.length - 1]) : null,
    };
  }

  /**
   * `q` matches: part of the name or the email; part of a phone number as stored (its digits, at least four); the
   * number normalised to E.164 as the pull does (read in ROBAWS_DEFAULT_COUNTRY), so a national format finds it; and
   * the VAT number normalised (part of it, without the country prefix when none was typed).
   */
  private search(where: WhereExpressionBuilder, q: string): void {
    const like = `%${likeEscaped(q)}%`;
    where.where("c.name LIKE :like ESCAPE '!'", { like });
    where.orWhere("c.email LIKE :emailLike ESCAPE '!'", { emailLike: `%${likeEscaped(q.toLowerCase())}%` });
    const phone = normalisePhone(q, this.defaultCountry);
    if (phone.valid && phone.value)
      where.orWhere('(c.phone = :e164 OR c.tel = :e164 OR c.gsm = :e164)', { e164: phone.value });
    const digits = q.replace(/[\s./()-]/g, '');
    if (/^\+?\d{4,}$/.test(digits)) {
      const digitsLike = `%${digits}%`;
      where.orWhere('(c.phone LIKE :digitsLike OR c.tel LIKE :digitsLike OR c.gsm LIKE :digitsLike)', { digitsLike });
    }
    const vat = normaliseVat(q, null).value;
    if (vat && vat.length >= 4 && /\d/.test(vat))
      where.orWhere("c.vatNumber LIKE :vatLike ESCAPE '!'", { vatLike: `%${likeEscaped(vat)}%` });
  }

  async get(id: number): Promise<CustomerView> {
    return customerView(await this.row(id));
  }

  /**
   * A local edit: checked and normalised (every bad field named, nothing written), written to the row and merged into
   * its pending edit (`local_dirty`), which the next push sends. A customer with an open conflict must be resolved
   * first, and one deleted in Robaws cannot be pushed to: both 409.
   */
  async update(id: number, body: unknown): Promise<CustomerView> {
    for (let attempt = 1; ; attempt++) {
      const row = await this.row(id);
      if (row.conflict)
        throw new ConflictException(
          `customer ${id} has a conflict with Robaws (changed there since it was edited here): resolve it first (POST /api/crm/customers/${id}/resolve with keep local or remote)`,
        );
      if (row.deletedUpstream)
        throw new ConflictException(`customer ${id} was deleted in Robaws: an edit could not be pushed`);
      const checked = checkEdit(body, row, this.defaultCountry);
      if (!checked.ok) throw badFields(checked.fields);
      const edit = applyEdit(row, checked.values, this.defaultCountry, new Date());
      // Written only if the row is as read: a pull storing a newer version (or another edit) in between is seen, and
      // the edit is worked out again on the row as it is then.
      const qb = this.customers
        .createQueryBuilder()
        .update(RobawsCustomer)
        .set({ ...edit.columns, localDirty: edit.localDirty })
        .where('robaws_id = :id', { id })
        .andWhere('content_hash = :hash', { hash: row.contentHash })
        .andWhere('conflict IS NULL');
      if (row.localDirty) qb.andWhere('local_dirty = :previous', { previous: JSON.stringify(row.localDirty) });
      else qb.andWhere('local_dirty IS NULL');
      const { affected } = await qb.execute();
      if (affected === 0) {
        if (attempt < EDIT_ATTEMPTS) continue;
        throw new ConflictException(`customer ${id} kept changing while it was being edited: try again`);
      }
      const fields = Object.keys(edit.localDirty?.fields ?? {});
      this.logger.log(
        `customer ${id} edited (${Object.keys(checked.values).join(', ')}); pending edit: ${fields.length ? fields.join(', ') : 'none'}`,
      );
      return this.get(id);
    }
  }

  /** POST /sync: robaws.customers.incremental for this client alone (fetched by id), now. */
  sync(id: number): Promise<CustomerRunResult> {
    return this.runFor(ROBAWS_CUSTOMERS_INCREMENTAL, id, false);
  }

  /** POST /push: robaws.customers.push for this customer's local edit alone, now. */
  pushOne(id: number): Promise<CustomerRunResult> {
    return this.runFor(ROBAWS_CUSTOMERS_PUSH, id, true);
  }

  async resolve(id: number, keep: 'local' | 'remote'): Promise<CustomerView> {
    return customerView(await this.push.resolve(id, keep));
  }

  /**
   * Customers sharing a normalised VAT number, and customers sharing an email (both stored normalised), those deleted
   * in Robaws left out: at most `limit` groups of each kind, largest first.
   */
  async duplicates(query: ListDuplicatesQuery): Promise<DuplicatesView> {
    const limit = query.limit ?? DEFAULT_DUPLICATE_GROUPS;
    const groups: DuplicateGroupView[] = [];
    for (const [kind, column] of [
      ['vat_number', 'vatNumber'],
      ['email', 'email'],
    ] as const) {
      const shared: Array<{ value: string }> = await this.customers
        .createQueryBuilder('c')
        .select(`c.${column}`, 'value')
        .where(`c.${column} IS NOT NULL`)
        .andWhere('c.deletedUpstream = :gone', { gone: false })
        .groupBy(`c.${column}`)
        .having('COUNT(*) > 1')
        .orderBy('COUNT(*)', 'DESC')
        .addOrderBy(`c.${column}`, 'ASC')
        .limit(limit)
        .getRawMany();
      if (!shared.length) continue;
      const values = shared.map((s) => s.value);
      const rows = await this.customers.find({
        where: { [column]: In(values), deletedUpstream: false },
        order: { robawsId: 'ASC' },
      });
      for (const value of values)
        groups.push({ kind, value, customers: rows.filter((r) => r[column] === value).map(customerView) });
    }
    return { data: groups };
  }

  /**
   * A manual run of `declaration` with `{clientId}`, through the run lifecycle like a scheduled one (it is in the run
   * history, trigger manual), answering when it has ended. The Robaws customer jobs share one lease (their leaseGroup):
   * while one runs this run is skipped (409).
   */
  private async runFor(declaration: JobDeclaration, id: number, mustExist: boolean): Promise<CustomerRunResult> {
    // The pull may fetch a client the hub has not stored yet; a push needs a stored customer.
    if (mustExist) await this.row(id);
    const now = new Date();
    const tick: SyncRequestedPayload = {
      runId: randomUUID(),
      domain: 'crm',
      job: declaration.job,
      companyId: ROBAWS_COMPANY_ID,
      trigger: 'manual',
      scheduledFor: now.toISOString(),
      deadline: new Date(now.getTime() + 3_600_000).toISOString(),
      params: { clientId: id },
    };
    this.logger.log(`customer ${id}: ${declaration.job} run ${tick.runId}`);
    const outcome = await this.executor.execute(tick);
    const after = await this.customers.findOneBy({ robawsId: id });
    switch (outcome.status) {
      case 'completed':
      case 'failed': {
        if (!after) throw new NotFoundException(`customer ${id} not found (in Robaws either: run ${tick.runId})`);
        const reason =
          outcome.status === 'failed'
            ? `${outcome.error.origin}/${outcome.error.code}: ${outcome.error.message}`
            : null;
        return {
          kind: 'ran',
          view: { run_id: tick.runId, run_status: outcome.status, reason, customer: customerView(after) },
        };
      }
      case 'skipped':
        return {
          kind: 'busy',
          message:
            outcome.reason === 'overlap'
              ? `a Robaws customer job (pull or push) is running: customer ${id} was not ${declaration === ROBAWS_CUSTOMERS_PUSH ? 'pushed' : 'synced'}; try again when it ends`
              : `the run for customer ${id} was skipped (${outcome.reason})`,
          runId: tick.runId,
          reason: outcome.reason,
          customer: after ? customerView(after) : null,
        };
      default:
        // A fresh run id with the `skip` policy is never a duplicate and never waits.
        throw new Error(`the run ${tick.runId} ended as ${outcome.status}`);
    }
  }

  private async row(id: number): Promise<RobawsCustomer> {
    const found = await this.customers.findOneBy({ robawsId: id });
    if (!found) throw new NotFoundException(`customer ${id} not found`);
    return found;
  }
}
