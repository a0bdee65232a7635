import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import {
  ACCOUNTING_BILLS,
  ACCOUNTING_SALES,
  DocumentPage,
  DocumentRetryView,
  DocumentView,
  ListDocumentsQuery,
  SyncRequestedPayload,
} from '@sync-hub/contracts';
import { RunExecutor } from '@sync-hub/runs';
import { Repository } from 'typeorm';
import { CompanyProjectionService } from '../companies/company-projection.service';
import { AccountingDocument } from './accounting-document.entity';
import { badQueryField, decodeDocumentCursor, documentView, encodeDocumentCursor } from './document-views';

const DEFAULT_LIMIT = 50;

/** What a retry came to: the run ran (completed or failed), or it did not because a job of the company holds it. */
export type RetryResult =
  | { kind: 'ran'; view: DocumentRetryView }
  /** The run, recorded skipped. */
  | { kind: 'busy'; message: string; runId: string; reason: string; document: DocumentView };

/**
 * The documents API of accounting-sync (issue 10, "Seeing it"): a company's documents, filtered and paged newest
 * first, one document, and the retry of one document as a run of its job.
 */
@Injectable()
export class DocumentsApiService {
  private readonly logger = new Logger(DocumentsApiService.name);

  constructor(
    @InjectRepository(AccountingDocument) private readonly docs: Repository<AccountingDocument>,
    private readonly companies: CompanyProjectionService,
    private readonly executor: RunExecutor,
  ) {}

  /** Newest transaction date first, then newest row; `next_cursor` continues after the page's last row. */
  async list(companyId: number, query: ListDocumentsQuery): Promise<DocumentPage> {
    const after = query.cursor ? decodeDocumentCursor(query.cursor) : undefined;
    if (after === null) throw badQueryField('cursor', 'not a cursor this API gave out');
    if (query.from && query.to && query.from > query.to)
      throw badQueryField('to', `to (${query.to}) is before from (${query.from})`);
    await this.companies.get(companyId);
    const limit = query.limit ?? DEFAULT_LIMIT;
    const qb = this.docs
      .createQueryBuilder('d')
      .where('d.companyId = :companyId', { companyId })
      .andWhere('d.source = :source', { source: 'devpos' });
    if (query.status) qb.andWhere('d.status = :status', { status: query.status });
    if (query.type) qb.andWhere('d.docType = :type', { type: query.type });
    if (query.from) qb.andWhere('d.txnDate >= :from', { from: query.from });
    if (query.to) qb.andWhere('d.txnDate <= :to', { to: query.to });
    if (after)
      qb.andWhere('(d.txnDate < :afterDate OR (d.txnDate = :afterDate AND d.id < :afterId))', {
        afterDate: after.txnDate,
        afterId: after.id,
      });
    const rows = await qb
      .orderBy('d.txnDate', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    return {
      data: page.map(documentView),
      next_cursor: rows.length > limit ? encodeDocumentCursor(page[page.length - 1]) : null,
    };
  }

  async get(companyId: number, eic: string): Promise<DocumentView> {
    await this.companies.get(companyId);
    return documentView(await this.row(companyId, eic));
  }

  /**
   * Runs the document's job (`sales` for a sales document, `bills` for a purchase) again for this one document,
   * through the run lifecycle with trigger `manual`: its range is the document's date and `eics` names it alone. The
   * document jobs share one per-company lease (their `leaseGroup`), so the retry never overlaps a sales, bills or full
   * run of the company: then it is skipped, and that is in the run history too.
   */
  async retry(companyId: number, eic: string): Promise<RetryResult> {
    await this.companies.get(companyId);
    const doc = await this.row(companyId, eic);
    const declaration = doc.docType === 'sales' ? ACCOUNTING_SALES : ACCOUNTING_BILLS;
    const job = declaration.job;
    const now = new Date();
    const tick: SyncRequestedPayload = {
      runId: randomUUID(),
      domain: 'accounting',
      job,
      companyId,
      trigger: 'manual',
      scheduledFor: now.toISOString(),
      deadline: new Date(now.getTime() + 3_600_000).toISOString(),
      params: { from: doc.txnDate, to: doc.txnDate, eics: [doc.eic] },
    };
    const what = `document ${doc.documentNumber ?? doc.eic} (${doc.eic})`;
    this.logger.log(`retrying ${what} of company ${companyId} as ${job} run ${tick.runId} (${doc.txnDate})`);
    const outcome = await this.executor.execute(tick);
    const after = await this.row(companyId, eic);
    switch (outcome.status) {
      case 'completed':
        return {
          kind: 'ran',
          view: this.retryView(
            tick.runId,
            'completed',
            // The range was read but the document was not in it: nothing was sent, and the row is as it was.
            outcome.stats.fetched === 0
              ? `DevPos did not list ${what} on ${doc.txnDate} for the ${job} job: nothing was retried`
              : null,
            after,
          ),
        };
      case 'failed': {
        const e = outcome.error;
        return {
          kind: 'ran',
          view: this.retryView(tick.runId, 'failed', `${e.origin}/${e.code}: ${e.message}`, after),
        };
      }
      case 'skipped':
        return {
          kind: 'busy',
          message:
            outcome.reason === 'overlap'
              ? `a document sync (sales, bills or full) is running for company ${companyId}: ${what} was not retried; try again when it ends`
              : `the retry of ${what} was skipped (${outcome.reason})`,
          runId: tick.runId,
          reason: outcome.reason,
          document: documentView(after),
        };
      default:
        // A fresh run id with the `skip` policy is never a duplicate and never waits.
        throw new Error(`the retry run ${tick.runId} ended as ${outcome.status}`);
    }
  }

  private retryView(
    runId: string,
    status: DocumentRetryView['run_status'],
    reason: string | null,
    doc: AccountingDocument,
  ): DocumentRetryView {
    return { run_id: runId, run_status: status, reason, document: documentView(doc) };
  }

  private async row(companyId: number, eic: string): Promise<AccountingDocument> {
    const found = await this.docs.findOneBy({ companyId, source: 'devpos', eic });
    if (!found) throw new NotFoundException(`document ${eic} not found for company ${companyId}`);
    return found;
  }
}
