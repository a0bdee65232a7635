import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { ConfigurationError, RunStats } from '@sync-hub/contracts';
import { ChangeEventSender, ReliablePublisher } from '@sync-hub/messaging';
import { In, type DataSource } from 'typeorm';
import { attachStats } from '@sync-hub/runs';
import { DocumentRows } from './document-rows';
import { CompanyProjectionService } from '../companies/company-projection.service';
import { DevposSettings } from '../connections/connection.entity';
import { ConnectionsService } from '../connections/connections.service';
import { DevposClient } from '../devpos/devpos-client';
import { DevposTokens } from '../devpos/devpos-tokens.service';
import { QuickBooksApiClient } from '../quickbooks/quickbooks-api.client';
import { QuickBooksFault, QuickBooksFaultError } from '../quickbooks/quickbooks-fault';
import { QuickBooksTokens } from '../quickbooks/quickbooks-tokens.service';
import { AccountingDocument } from './accounting-document.entity';
import { AccountingParty, partyKey } from './accounting-party.entity';
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
  /** The run's id, carried by its change events (`accounting.document.changed.v1`); unset: they carry null. */
  runId?: string;
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
  /** The fiscal PDF, base64. */
  pdf?: unknown;
}

/** A document completed from its full DevPos record: currency, rate, its single VAT rate, and the PDF. */
interface CompletedDocument {
  doc: SourceDocument;
  vatRate: number | null;
  pdf: string | null;
}

/** What one run shares across its lanes. */
interface RunState {
  companyId: number;
  mapping: CompanyMapping;
  stats: RunStats;
  ctx: DocumentSyncContext;
  rows: DocumentRows;
  /** Parties resolved in this run, by kind, key and currency: one lookup (or create) each, however many lanes ask. */
  parties: Map<string, Promise<AccountingParty>>;
}

const BATCH = 30;
/**
 * Batches in flight at once. Each holds at most one QuickBooks request at a time (the batch, then its uploads share
 * the client's cap of 10 per realm) while the next ones read their full documents from DevPos, so QuickBooks' batch
 * budget, not the wait for DevPos, sets the pace.
 */
const LANES = 4;

/**
 * One accounting run for one company (seed 001, issue 10): the DevPos documents of a range, read in windows, into
 * QuickBooks. Unchanged documents (same content hash) make no QuickBooks call; new ones are created in batches of 30,
 * each batch written `pending` with its requestid first, so a run after a crash replays it instead of creating twice;
 * changed ones get a sparse update with the stored SyncToken (a stale answer re-reads and retries once). A document
 * QuickBooks refuses is `failed` with QuickBooks' reason and the run goes on. The PDF DevPos gives is attached to the
 * created document; a failed attachment is a warning on the document and the run. Each write that changes a document's
 * record commits its change event with it (accounting.document.changed.v1, see DocumentRows), sent after the commit.
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
    @Optional() private readonly outbox?: ReliablePublisher,
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

    // Every committed write that changes a document's record sends it (see DocumentRows), after its commit.
    const sender =
      !options.dryRun && this.outbox && this.config.changeEvents.includes('accounting')
        ? new ChangeEventSender(this.outbox, this.logger, 'document change events')
        : null;
    const rows = new DocumentRows(
      this.docs,
      companyId,
      await this.stored(
        companyId,
        documents.map((d) => d.eic),
      ),
      sender && { outbox: this.outbox!, sender, runId: options.runId ?? null },
    );
    const plan: PlannedDocument[] = [];
    const creates: SourceDocument[] = [];
    const updates: Array<{ doc: SourceDocument; row: AccountingDocument }> = [];
    const attachments: Array<{ doc: SourceDocument; row: AccountingDocument }> = [];
    const pending = new Map<string, SourceDocument[]>();
    for (const doc of documents) {
      const row = rows.get(doc.eic);
      const hash = contentHash(doc);
      const entity = qboEntityOf(doc);
      const party = doc.party.nuis ?? `${doc.party.name} (no NUIS)`;
      if (doc.rejected) {
        stats.skipped++;
        plan.push({ eic: doc.eic, number: doc.number, action: 'skip', entity, party });
        if (!options.dryRun && !row) rows.record(doc, hash, { status: 'skipped' });
        continue;
      }
      if (row?.pendingRequest) {
        pending.set(row.pendingRequest, [...(pending.get(row.pendingRequest) ?? []), doc]);
        plan.push({ eic: doc.eic, number: doc.number, action: 'create', entity, party });
      } else if (row?.status === 'synced' && row.qboId && row.contentHash === hash) {
        stats.unchanged++;
        plan.push({ eic: doc.eic, number: doc.number, action: 'unchanged', entity, party });
        // A PDF not attached yet (the run that created it ended first), or one that failed and is retried by hand.
        if (mapping.attachPdf && (row.attachmentStatus === null || (only && row.attachmentStatus === 'failed')))
          attachments.push({ doc, row });
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
    try {
      await this.write(companyId, mapping, stats, ctx, rows, { pending, creates, updates, attachments });
    } catch (err) {
      // The documents written before the failure are in the failed event's stats and in sync_runs.
      throw attachStats(err, stats);
    } finally {
      // The events of every committed write go out before the run reports; what the bus refuses stays in the outbox.
      await sender?.finish();
    }
    return { stats, plan };
  }

  /** Creates, updates and attaches in QuickBooks what the plan says; `stats` counts as it goes. */
  private async write(
    companyId: number,
    mapping: CompanyMapping,
    stats: RunStats,
    ctx: DocumentSyncContext,
    rows: DocumentRows,
    work: {
      pending: Map<string, SourceDocument[]>;
      creates: SourceDocument[];
      updates: Array<{ doc: SourceDocument; row: AccountingDocument }>;
      attachments: Array<{ doc: SourceDocument; row: AccountingDocument }>;
    },
  ): Promise<void> {
    const { pending, creates, updates, attachments } = work;
    await rows.flush();
    const run: RunState = { companyId, mapping, stats, ctx, rows, parties: new Map() };
    // A batch a crashed run left pending goes again first, whole, under its own requestid.
    for (const [requestId, batch] of pending) await this.createBatch(run, batch, requestId);
    for (const kind of ['sales', 'purchase'] as const) {
      const ofKind = creates.filter((d) => d.kind === kind);
      const batches: SourceDocument[][] = [];
      for (let i = 0; i < ofKind.length; i += BATCH) batches.push(ofKind.slice(i, i + BATCH));
      await inLanes(batches, LANES, ctx.signal, (batch) => this.createBatch(run, batch));
    }
    await inLanes(updates, LANES, ctx.signal, ({ doc, row }) => this.update(run, doc, row));
    const pendingPdfs: Array<Array<{ doc: SourceDocument; row: AccountingDocument }>> = [];
    for (let i = 0; i < attachments.length; i += BATCH) pendingPdfs.push(attachments.slice(i, i + BATCH));
    await inLanes(pendingPdfs, LANES, ctx.signal, async (group) => {
      const completed = await Promise.all(group.map(({ doc }) => this.complete(companyId, doc)));
      await this.attach(
        run,
        group.map(({ doc, row }, i) => ({
          doc,
          entity: row.qboEntity,
          qboId: row.qboId!,
          generation: row.generation,
          pdf: completed[i].pdf,
        })),
      );
      await rows.flush(group.map(({ doc }) => doc.eic));
    });
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
      attachPdf: own ? !!own.attachPdf : true,
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

  /** Currency, rate, VAT rate and PDF from the full document (list rows carry none). */
  private async complete(companyId: number, doc: SourceDocument): Promise<CompletedDocument> {
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
      pdf: typeof full.pdf === 'string' && full.pdf.length > 0 ? full.pdf : null,
    };
  }

  /** The QuickBooks customer or vendor of a document, resolved once per run however many documents share it. */
  private party(run: RunState, doc: SourceDocument): Promise<AccountingParty> {
    const kind = doc.kind === 'sales' ? 'customer' : 'vendor';
    const currency = doc.currency ?? HOME_CURRENCY;
    const key = `${kind}|${partyKey(doc.party).key}|${currency}`;
    let found = run.parties.get(key);
    if (!found) {
      found = this.quickbooks
        .withQuickBooks(run.companyId, (token, realm) =>
          this.parties.resolve(run.companyId, realm, token, kind, doc.party, currency),
        )
        .then((party) => {
          if (party.flagged)
            run.ctx.warn(
              `${doc.party.name || 'a party'} has no NUIS: its documents are booked on "${party.displayName}", keyed by its name`,
            );
          return party;
        });
      // A failure is not remembered: the next document asks again.
      found.catch(() => run.parties.delete(key));
      run.parties.set(key, found);
    }
    return found;
  }

  private async createBatch(run: RunState, batch: SourceDocument[], replay?: string): Promise<void> {
    const { companyId, rows, stats } = run;
    // The full documents of the batch at once (DevPos's client caps its own concurrency).
    const completed = await Promise.all(
      batch.map((listed) =>
        this.complete(companyId, listed).then(
          (c) => ({ listed, c, err: null }),
          (err: unknown) => ({ listed, c: null, err }),
        ),
      ),
    );
    const items: Array<{
      bId: string;
      entity: string;
      body: object;
      doc: SourceDocument;
      hash: string;
      pdf: string | null;
    }> = [];
    for (const { listed, c, err } of completed) {
      const hash = contentHash(listed);
      if (!c) {
        if (err instanceof ConfigurationError) throw err;
        stats.failed++;
        rows.record(listed, hash, {
          status: 'failed',
          pendingRequest: null,
          errorCode: 'DEVPOS_DOCUMENT_UNAVAILABLE',
          errorMessage: `DevPos did not give the full document: ${(err as Error).message}`.slice(0, 2000),
        });
        continue;
      }
      const party = await this.party(run, c.doc);
      const { entity, body } = qboDocument(c.doc, party.qboId, run.mapping, c.vatRate);
      items.push({ bId: c.doc.eic, entity, body, doc: c.doc, hash, pdf: c.pdf });
    }
    const eics = batch.map((d) => d.eic);
    if (items.length === 0) {
      await rows.flush(eics);
      return;
    }
    const requestId =
      replay ??
      batchRequestId(
        companyId,
        items.map((i): [string, number] => [i.doc.eic, rows.get(i.doc.eic)?.generation ?? 0]),
      );
    // Durable before it is sent: a run that dies waiting for the answer leaves the requestid to replay.
    for (const item of items) rows.record(item.doc, item.hash, { status: 'pending', pendingRequest: requestId });
    await rows.flush(eics);
    const answers = await this.quickbooks.withQuickBooks(companyId, (token, realm) =>
      this.api.batchCreate<{ Id: string; SyncToken: string }>(
        realm,
        token,
        items.map(({ bId, entity, body }) => ({ bId, entity, body })),
        requestId,
      ),
    );
    const created: Array<{ item: (typeof items)[number]; id: string }> = [];
    for (const item of items) {
      const answer = answers.get(item.bId);
      if (answer && 'entity' in answer) {
        stats.created++;
        rows.record(item.doc, item.hash, {
          status: 'synced',
          qboId: answer.entity.Id,
          syncToken: answer.entity.SyncToken,
          pendingRequest: null,
          attachmentStatus: null,
          attachmentId: null,
          attachmentWarning: null,
        });
        created.push({ item, id: answer.entity.Id });
      } else if (answer) {
        // A definite refusal: nothing was created, so the next try goes under a new requestid (QuickBooks would
        // otherwise answer it with this same refusal, even after the cause is fixed).
        stats.failed++;
        const generation = (rows.get(item.doc.eic)?.generation ?? 0) + 1;
        rows.record(item.doc, item.hash, {
          ...failure(answer.fault[0], 'QuickBooks refused the document'),
          generation,
        });
      } else {
        stats.failed++;
        rows.record(item.doc, item.hash, failure(undefined, 'QuickBooks answered nothing for this document'));
      }
    }
    await rows.flush(eics);
    if (created.length === 0) return;
    await this.attach(
      run,
      created.map(({ item, id }) => ({
        doc: item.doc,
        entity: item.entity,
        qboId: id,
        generation: rows.get(item.doc.eic)?.generation ?? 0,
        pdf: item.pdf,
      })),
    );
    await rows.flush(eics);
  }

  /**
   * Attaches DevPos's PDFs to their QuickBooks documents, all of a batch in one `/upload` (one request against the
   * realm's limits, not one per document). A failure is a warning on the document (its attachment_warning) and on the
   * run; the document stays synced. Not attaching (no PDF, or the company attaches none) is `none`.
   */
  private async attach(
    run: RunState,
    docs: Array<{ doc: SourceDocument; entity: string; qboId: string; generation: number; pdf: string | null }>,
  ): Promise<void> {
    const files = docs.filter((d): d is typeof d & { pdf: string } => run.mapping.attachPdf && d.pdf !== null);
    for (const d of docs)
      if (!files.includes(d as (typeof files)[number]))
        run.rows.patch(d.doc.eic, { attachmentStatus: 'none', attachmentId: null, attachmentWarning: null });
    if (files.length === 0) return;
    const requestId = createHash('sha256')
      .update(`pdf:${run.companyId}:${files.map((f) => `${f.doc.eic}:${f.generation}:${f.qboId}`).join(',')}`)
      .digest('base64url')
      .slice(0, 36);
    const failed = (d: (typeof files)[number], reason: string) => {
      const warning = `the PDF of document ${d.doc.number} (${d.doc.eic}) was not attached in QuickBooks: ${reason}`;
      run.ctx.warn(warning);
      run.rows.patch(d.doc.eic, { attachmentStatus: 'failed', attachmentWarning: warning.slice(0, 500) });
    };
    let answers: Awaited<ReturnType<QuickBooksApiClient['uploadMany']>>;
    try {
      answers = await this.quickbooks.withQuickBooks(run.companyId, (token, realm) =>
        this.api.uploadMany(
          realm,
          token,
          files.map((f) => ({
            fileName: attachmentName(f.doc),
            contentType: 'application/pdf',
            content: Buffer.from(f.pdf, 'base64'),
            ref: { entity: f.entity, id: f.qboId },
          })),
          requestId,
        ),
      );
    } catch (err) {
      if (err instanceof ConfigurationError) throw err;
      for (const f of files) failed(f, (err as Error).message);
      return;
    }
    files.forEach((f, i) => {
      const answer = answers[i];
      if ('attachable' in answer)
        run.rows.patch(f.doc.eic, {
          attachmentStatus: 'attached',
          attachmentId: answer.attachable.Id,
          attachmentWarning: null,
        });
      else failed(f, answer.fault.message);
    });
  }

  private async update(run: RunState, doc: SourceDocument, row: AccountingDocument): Promise<void> {
    const { companyId, rows, stats, ctx } = run;
    const hash = contentHash(doc);
    try {
      const { doc: full, vatRate, pdf } = await this.complete(companyId, doc);
      const party = await this.party(run, full);
      const { entity, body } = qboDocument(full, party.qboId, run.mapping, vatRate);
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
          rows.record(full, hash, {
            status: 'synced',
            qboId: saved.Id,
            syncToken: saved.SyncToken,
            pendingRequest: null,
          });
          if (row.attachmentStatus !== 'attached' && row.attachmentStatus !== 'none')
            await this.attach(run, [{ doc: full, entity, qboId: saved.Id, generation: row.generation, pdf }]);
          await rows.flush([doc.eic]);
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
        rows.record(doc, row.contentHash, {
          status: 'failed',
          qboId: null,
          syncToken: null,
          generation: row.generation + 1,
          attachmentStatus: null,
          attachmentId: null,
          attachmentWarning: null,
        });
        await rows.flush([doc.eic]);
        await this.createBatch(run, [doc]);
        return;
      }
      if (err instanceof QuickBooksFault && err.validation) {
        stats.failed++;
        rows.record(doc, row.contentHash, {
          ...failure(err.errors[0], err.message),
          status: 'synced',
          intuitTid: err.intuitTid,
        });
        await rows.flush([doc.eic]);
        return;
      }
      throw err;
    }
  }
}

/**
 * Runs `work` over the items with at most `lanes` at once. The first failure stops the lanes from taking more; the
 * ones in flight finish, then it is thrown.
 */
async function inLanes<T>(
  items: T[],
  lanes: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | null = null;
  const lane = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        signal.throwIfAborted();
        await work(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
  if (failed) throw (failed as { error: unknown }).error;
}

function failure(fault: QuickBooksFaultError | undefined, fallback: string): Partial<AccountingDocument> {
  return {
    status: 'failed',
    pendingRequest: null,
    errorCode: fault?.code ? `QBO_${fault.code}` : 'QBO_REFUSED',
    errorMessage: (fault ? faultText(fault) : fallback).slice(0, 2000),
    errorElement: fault?.element ?? null,
  };
}

/** QuickBooks' message and detail; the detail alone when it already starts with the message (it often does). */
export function faultText(fault: Pick<QuickBooksFaultError, 'message' | 'detail'>): string {
  if (!fault.detail) return fault.message;
  return fault.detail.startsWith(fault.message) ? fault.detail : `${fault.message}: ${fault.detail}`;
}

/** The attachment's file name: the document number (which holds a "/") and the EIC; QuickBooks refuses "/". */
export function attachmentName(doc: Pick<SourceDocument, 'number' | 'eic'>): string {
  return `${doc.number.replace(/[/\\]/g, '-')} ${doc.eic}.pdf`;
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
