import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ConfigurationError, RunStats } from '@sync-hub/contracts';
import { In, type DataSource } from 'typeorm';
import { CompanyProjectionService } from '../companies/company-projection.service';
import { DevposSettings } from '../connections/connection.entity';
import { ConnectionsService } from '../connections/connections.service';
import { DevposClient } from '../devpos/devpos-client';
import { DevposTokens } from '../devpos/devpos-tokens.service';
import { QuickBooksApiClient } from '../quickbooks/quickbooks-api.client';
import { QuickBooksFault, QuickBooksFaultError } from '../quickbooks/quickbooks-fault';
import { QuickBooksTokens } from '../quickbooks/quickbooks-tokens.service';
import { AccountingDocument } from './accounting-document.entity';
import { AccountingSettings } from './accounting-settings.entity';
import { DateRange, windows } from './date-range';
import { PartyResolver } from './party-resolver';
import { CompanyMapping, HOME_CURRENCY, qboDocument } from './qbo-payload';
import {
  contentHash,
  createRequestId,
  DevposList,
  MalformedDocumentError,
  qboEntityOf,
  readDevposRow,
  SourceDocument,
} from './source-document';

export type AccountingJob = 'sales' | 'bills' | 'full';

export interface DocumentSyncOptions {
  job: AccountingJob;
  range: DateRange;
  dryRun?: boolean;
  windowDays?: number;
  /** Only these documents of the range (a retry); unset: all. */
  eics?: string[];
}

/** What a dry run would do with one document. */
export interface PlannedDocument {
  eic: string;
  number: string;
  action: 'create' | 'update' | 'skip' | 'unchanged';
  entity: string;
  party: string;
}

export interface DocumentSyncContext {
  signal: AbortSignal;
  warn: (message: string) => void;
}

interface FullDocument {
  currencyCode?: unknown;
  exchangeRate?: unknown;
  invoiceProducts?: Array<{ vatRate?: unknown }>;
}

const BATCH = 30;

/**
 * One accounting run for one company (seed 001, issue 10): the DevPos documents of a range, read in windows, into
 * QuickBooks. Unchanged documents (same content hash) make no QuickBooks call; new ones are created in batches of 30,
 * each batch written `pending` with its requestid first, so a run after a crash replays it instead of creating twice;
 * changed ones get a sparse update with the stored SyncToken (a stale answer re-reads and retries once). A document
 * QuickBooks refuses is `failed` with QuickBooks' reason and the run goes on.
 */
@Injectable()
export class DocumentSyncService {
  private readonly logger = new Logger(DocumentSyncService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly companies: CompanyProjectionService,
    private readonly connections: ConnectionsService,
    private readonly devposTokens: DevposTokens,
    private readonly devpos: DevposClient,
    private readonly quickbooks: QuickBooksTokens,
    private readonly api: QuickBooksApiClient,
    private readonly parties: PartyResolver,
  ) {}

  private get docs() {
    return this.dataSource.getRepository(AccountingDocument);
  }

  async sync(
    companyId: number,
    options: DocumentSyncOptions,
    ctx: DocumentSyncContext,
  ): Promise<{ stats: RunStats; plan: PlannedDocument[] }> {
    const stats: RunStats = { fetched: 0, created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
    const company = await this.companies.find(companyId);
    if (!company) throw new ConfigurationError('COMPANY_UNKNOWN', `company ${companyId} is unknown to accounting-sync`);
    if (!company.active) throw new ConfigurationError('COMPANY_INACTIVE', `company ${companyId} is inactive`);
    const mapping = await this.mapping(companyId);

    const kinds: DevposList[] =
      options.job === 'sales' ? ['sales'] : options.job === 'bills' ? ['purchase'] : ['sales', 'purchase'];
    // Self-invoices are in the sales list but are purchases: a bills run reads the sales list too.
    const lists: DevposList[] = options.job === 'sales' ? ['sales'] : ['sales', 'purchase'];
    const found: SourceDocument[] = [];
    for (const window of windows(options.range, options.windowDays ?? 7)) {
      for (const list of lists) {
        ctx.signal.throwIfAborted();
        const rows = await this.devposTokens.withDevpos(companyId, (token, tenant) =>
          this.devpos.list(list, token, tenant, window),
        );
        for (const row of rows) {
          try {
            found.push(readDevposRow(row as Record<string, unknown>, list, company.timezone));
          } catch (err) {
            if (!(err instanceof MalformedDocumentError)) throw err;
            stats.failed++;
            ctx.warn(err.message);
          }
        }
      }
    }
    const only = options.eics ? new Set(options.eics) : null;
    const documents = dedupe(found)
      .filter((d) => kinds.includes(d.kind) && (!only || only.has(d.eic)))
      .sort((a, b) => (a.kind === b.kind ? a.txnDate.localeCompare(b.txnDate) : a.kind === 'sales' ? -1 : 1));
    stats.fetched = documents.length;

    const stored = await this.stored(
      companyId,
      documents.map((d) => d.eic),
    );
    const plan: PlannedDocument[] = [];
    const creates: SourceDocument[] = [];
    const updates: Array<{ doc: SourceDocument; row: AccountingDocument }> = [];
    const pending = new Map<string, SourceDocument[]>();
    for (const doc of documents) {
      const row = stored.get(doc.eic);
      const hash = contentHash(doc);
      const entity = qboEntityOf(doc);
      const party = doc.party.nuis ?? `${doc.party.name} (no NUIS)`;
      if (doc.rejected) {
        stats.skipped++;
        plan.push({ eic: doc.eic, number: doc.number, action: 'skip', entity, party });
        if (!options.dryRun && !row) await this.record(companyId, doc, hash, { status: 'skipped' });
        continue;
      }
      if (row?.pendingRequest) {
        pending.set(row.pendingRequest, [...(pending.get(row.pendingRequest) ?? []), doc]);
        plan.push({ eic: doc.eic, number: doc.number, action: 'create', entity, party });
      } else if (row?.status === 'synced' && row.qboId && row.contentHash === hash) {
        stats.unchanged++;
        plan.push({ eic: doc.eic, number: doc.number, action: 'unchanged', entity, party });
      } else if (row?.status === 'synced' && row.qboId) {
        updates.push({ doc, row });
        plan.push({ eic: doc.eic, number: doc.number, action: 'update', entity, party });
      } else {
        creates.push(doc);
        plan.push({ eic: doc.eic, number: doc.number, action: 'create', entity, party });
      }
    }
    if (options.dryRun) {
      stats.created = creates.length + [...pending.values()].flat().length;
      stats.updated = updates.length;
      return { stats, plan };
    }

    // A batch a crashed run left pending goes again first, whole, under its own requestid.
    for (const [requestId, batch] of pending) await this.createBatch(companyId, batch, mapping, stats, ctx, requestId);
    for (let i = 0; i < creates.length; i += BATCH) {
      ctx.signal.throwIfAborted();
      await this.createBatch(companyId, creates.slice(i, i + BATCH), mapping, stats, ctx);
    }
    for (const { doc, row } of updates) {
      ctx.signal.throwIfAborted();
      await this.update(companyId, doc, row, mapping, stats, ctx);
    }
    return { stats, plan };
  }

  /** The company's mapping: its accounting_settings over the configured defaults, and VAT from its DevPos settings. */
  async mapping(companyId: number): Promise<CompanyMapping> {
    const own = await this.dataSource.getRepository(AccountingSettings).findOneBy({ companyId });
    const devpos = await this.connections.find(companyId, 'devpos');
    const q = this.config.accounting.quickbooks;
    return {
      companyId,
      incomeItemId: own?.incomeItemId ?? q.defaultIncomeItemId,
      expenseAccountId: own?.expenseAccountId ?? q.defaultExpenseAccountId,
      tracksVat: devpos ? !!(JSON.parse(devpos.settings) as DevposSettings).tracksVat : false,
      taxCodes: own?.taxCodes ? (JSON.parse(own.taxCodes) as Record<string, string>) : {},
    };
  }

  private async stored(companyId: number, eics: string[]): Promise<Map<string, AccountingDocument>> {
    const out = new Map<string, AccountingDocument>();
    for (let i = 0; i < eics.length; i += 500) {
      const rows = await this.docs.findBy({ companyId, source: 'devpos', eic: In(eics.slice(i, i + 500)) });
      for (const r of rows) out.set(r.eic, r);
    }
    return out;
  }

  /** Currency, rate and VAT rate from the full document (list rows carry none). */
  private async complete(
    companyId: number,
    doc: SourceDocument,
  ): Promise<{ doc: SourceDocument; vatRate: number | null }> {
    const full = await this.devposTokens.withDevpos(companyId, (token, tenant) =>
      this.devpos.fullDocument<FullDocument>(token, tenant, doc.eic),
    );
    const currency =
      typeof full.currencyCode === 'string' && /^[A-Z]{3}$/.test(full.currencyCode) ? full.currencyCode : HOME_CURRENCY;
    const rate = typeof full.exchangeRate === 'number' && full.exchangeRate > 0 ? full.exchangeRate : null;
    const rates = new Set((full.invoiceProducts ?? []).map((p) => Number(p.vatRate)).filter((r) => Number.isFinite(r)));
    return {
      doc: { ...doc, currency, exchangeRate: currency === HOME_CURRENCY ? null : rate },
      vatRate: rates.size === 1 ? [...rates][0] : null,
    };
  }

  private async createBatch(
    companyId: number,
    batch: SourceDocument[],
    mapping: CompanyMapping,
    stats: RunStats,
    ctx: DocumentSyncContext,
    replay?: string,
  ): Promise<void> {
    const items: Array<{ bId: string; entity: string; body: object; doc: SourceDocument; hash: string }> = [];
    for (const listed of batch) {
      const hash = contentHash(listed);
      let completed: { doc: SourceDocument; vatRate: number | null };
      try {
        completed = await this.complete(companyId, listed);
      } catch (err) {
        if (err instanceof ConfigurationError) throw err;
        stats.failed++;
        await this.record(companyId, listed, hash, {
          status: 'failed',
          errorCode: 'DEVPOS_DOCUMENT_UNAVAILABLE',
          errorMessage: `DevPos did not give the full document: ${(err as Error).message}`,
        });
        continue;
      }
      const { doc, vatRate } = completed;
      const party = await this.quickbooks.withQuickBooks(companyId, (token, realm) =>
        this.parties.resolve(
          companyId,
          realm,
          token,
          doc.kind === 'sales' ? 'customer' : 'vendor',
          doc.party,
          doc.currency ?? HOME_CURRENCY,
        ),
      );
      if (party.flagged)
        ctx.warn(
          `document ${doc.number} (${doc.eic}) has no NUIS: booked on "${party.displayName}", keyed by its name`,
        );
      const { entity, body } = qboDocument(doc, party.qboId, mapping, vatRate);
      items.push({ bId: doc.eic, entity, body, doc, hash });
    }
    if (items.length === 0) return;
    const requestId =
      replay ??
      batchRequestId(
        companyId,
        await this.generations(
          companyId,
          items.map((i) => i.doc.eic),
        ),
      );
    for (const item of items)
      await this.record(companyId, item.doc, item.hash, { status: 'pending', pendingRequest: requestId });
    const answers = await this.quickbooks.withQuickBooks(companyId, (token, realm) =>
      this.api.batchCreate<{ Id: string; SyncToken: string }>(
        realm,
        token,
        items.map(({ bId, entity, body }) => ({ bId, entity, body })),
        requestId,
      ),
    );
    for (const item of items) {
      const answer = answers.get(item.bId);
      if (answer && 'entity' in answer) {
        stats.created++;
        await this.record(companyId, item.doc, item.hash, {
          status: 'synced',
          qboId: answer.entity.Id,
          syncToken: answer.entity.SyncToken,
          pendingRequest: null,
        });
      } else {
        stats.failed++;
        const fault = answer?.fault?.[0];
        await this.record(
          companyId,
          item.doc,
          item.hash,
          failure(fault, 'QuickBooks answered nothing for this document'),
        );
      }
    }
  }

  private async update(
    companyId: number,
    doc: SourceDocument,
    row: AccountingDocument,
    mapping: CompanyMapping,
    stats: RunStats,
    ctx: DocumentSyncContext,
  ): Promise<void> {
    const hash = contentHash(doc);
    try {
      const { doc: full, vatRate } = await this.complete(companyId, doc);
      const party = await this.quickbooks.withQuickBooks(companyId, (token, realm) =>
        this.parties.resolve(
          companyId,
          realm,
          token,
          full.kind === 'sales' ? 'customer' : 'vendor',
          full.party,
          full.currency ?? HOME_CURRENCY,
        ),
      );
      const { entity, body } = qboDocument(full, party.qboId, mapping, vatRate);
      if (entity !== row.qboEntity) {
        ctx.warn(
          `document ${doc.number} (${doc.eic}) changed from ${row.qboEntity} to ${entity}; QuickBooks cannot change a document's type, so it was left as it is`,
        );
        stats.skipped++;
        return;
      }
      const requestId = createHash('sha256')
        .update(`update:${companyId}:${doc.eic}:${hash}`)
        .digest('base64url')
        .slice(0, 36);
      let syncToken = row.syncToken ?? '0';
      for (let attempt = 1; ; attempt++) {
        try {
          const saved = await this.quickbooks.withQuickBooks(companyId, (token, realm) =>
            this.api.update<{ Id: string; SyncToken: string }>(
              realm,
              token,
              entity,
              { ...body, Id: row.qboId, SyncToken: syncToken },
              `${requestId.slice(0, 32)}-${attempt}`,
            ),
          );
          stats.updated++;
          await this.record(companyId, full, hash, {
            status: 'synced',
            qboId: saved.Id,
            syncToken: saved.SyncToken,
            pendingRequest: null,
          });
          return;
        } catch (err) {
          // Stale: someone changed it in QuickBooks; read its SyncToken and try once more.
          if (err instanceof QuickBooksFault && err.has('5010') && attempt === 1) {
            const current = await this.quickbooks.withQuickBooks(companyId, (token, realm) =>
              this.api.read<{ SyncToken: string }>(realm, token, entity, row.qboId!),
            );
            syncToken = current.SyncToken;
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (err instanceof ConfigurationError) throw err;
      // Only a definite "not found" means it was deleted in QuickBooks: a new generation (a new requestid) creates it.
      if (err instanceof QuickBooksFault && err.has('610')) {
        ctx.warn(`document ${doc.number} (${doc.eic}) was deleted in QuickBooks (610): it is created again`);
        await this.record(companyId, doc, row.contentHash, {
          status: 'failed',
          qboId: null,
          syncToken: null,
          generation: row.generation + 1,
        });
        await this.createBatch(companyId, [doc], mapping, stats, ctx);
        return;
      }
      if (err instanceof QuickBooksFault && err.validation) {
        stats.failed++;
        await this.record(companyId, doc, row.contentHash, {
          ...failure(err.errors[0], err.message),
          status: 'synced',
          intuitTid: err.intuitTid,
        });
        return;
      }
      throw err;
    }
  }

  private async generations(companyId: number, eics: string[]): Promise<Array<[string, number]>> {
    const rows = await this.stored(companyId, eics);
    return eics.map((e) => [e, rows.get(e)?.generation ?? 0]);
  }

  /** Creates or changes a document's row. */
  private async record(
    companyId: number,
    doc: SourceDocument,
    hash: string,
    change: Partial<AccountingDocument>,
  ): Promise<void> {
    const now = new Date();
    const existing = await this.docs.findOneBy({ companyId, source: 'devpos', eic: doc.eic });
    const row =
      existing ??
      this.docs.create({
        companyId,
        source: 'devpos',
        eic: doc.eic,
        generation: 0,
        createdAt: now,
        qboId: null,
        syncToken: null,
        pendingRequest: null,
      });
    Object.assign(row, {
      docType: doc.kind,
      qboEntity: qboEntityOf(doc),
      contentHash: hash,
      documentNumber: doc.number,
      txnDate: doc.txnDate,
      currency: doc.currency ?? HOME_CURRENCY,
      errorCode: null,
      errorMessage: null,
      errorElement: null,
      intuitTid: null,
      ...change,
      updatedAt: now,
      syncedAt: (change.status ?? row.status) === 'synced' ? now : (row.syncedAt ?? null),
    });
    await this.docs.save(row);
  }
}

function failure(fault: QuickBooksFaultError | undefined, fallback: string): Partial<AccountingDocument> {
  return {
    status: 'failed',
    pendingRequest: null,
    errorCode: fault?.code ? `QBO_${fault.code}` : 'QBO_REFUSED',
    errorMessage: (fault ? `${fault.message}${fault.detail ? `: ${fault.detail}` : ''}` : fallback).slice(0, 2000),
    errorElement: fault?.element ?? null,
  };
}

/** The same document listed twice (overlapping windows, a self-invoice) is one document. */
function dedupe(docs: SourceDocument[]): SourceDocument[] {
  return [...new Map(docs.map((d) => [d.eic, d])).values()];
}

/** A batch's requestid from its documents' (company, EIC, generation) keys: the same batch, the same requestid. */
function batchRequestId(companyId: number, keys: Array<[string, number]>): string {
  return createHash('sha256')
    .update(keys.map(([eic, generation]) => createRequestId(companyId, eic, generation)).join(','))
    .digest('base64url')
    .slice(0, 36);
}
