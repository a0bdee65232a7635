import { SimRequest, SimResponse } from '../http-server';
import {
  QBO_ENTITIES,
  QBO_PURCHASES,
  QBO_SALES,
  QboEntity,
  QboEntityName,
  QboFault,
  entityName,
  qboTime,
  text,
} from './qbo-model';
import { QboLimits, RealmLimiter } from './qbo-limits';
import { parseMultipart } from './qbo-multipart';
import { parseQboQuery, runQboQuery } from './qbo-query';
import { QboCompany } from './qbo-store';

/** What a realm's API did, for tests and the bench to assert on. Creates, updates and deletes count successes only. */
export interface QboCounters {
  /** API requests admitted past the limits (every route under /v3/company/{realm}). */
  requests: number;
  creates: Partial<Record<QboEntityName, number>>;
  updates: Partial<Record<QboEntityName, number>>;
  deletes: Partial<Record<QboEntityName, number>>;
  queries: number;
  batches: number;
  batchItems: number;
  uploads: number;
  /** Upload requests (each may carry several files; `uploads` counts the files). */
  uploadRequests: number;
  /** 429s from the realm's limits (not from fault injection). */
  throttled: number;
  /** Requests answered from the `requestid` store without acting again. */
  replayed: number;
}

/** Intuit's recommended (and node-quickbooks') maximum of items in one batch request. */
export const QBO_BATCH_MAX = 30;
const REQUEST_ID_MAX = 50;
const BATCH_REQUEST_ID_MAX = 36;

type Json = Record<string, unknown>;

/**
 * One realm behind the bearer-token check: its company data, limits, counters and the `requestid` store. Answers the
 * Accounting API's entity routes, query, batch and upload in Intuit's shapes; every fault is `{"Fault":…,"time":…}`.
 */
export class QboRealm {
  readonly company: QboCompany;
  readonly limiter: RealmLimiter;
  readonly counters: QboCounters = {
    requests: 0,
    creates: {},
    updates: {},
    deletes: {},
    queries: 0,
    batches: 0,
    batchItems: 0,
    uploads: 0,
    uploadRequests: 0,
    throttled: 0,
    replayed: 0,
  };
  /** Uploaded file contents by Attachable Id. */
  readonly files = new Map<string, string>();
  /** A test's refusal switch (`QuickBooksSimulator.refuseCreatesMatching`): the fault for a create, or null to let it be. */
  refuseCreate: ((entity: QboEntityName, body: unknown) => QboFault | null) | null = null;
  private readonly replies = new Map<string, SimResponse>();
  /**
   * Document numbers whose transactions this realm refuses (a test's "QuickBooks refuses this document"): a create or
   * update of an invoice, credit memo, bill or vendor credit with that DocNumber answers the fault, until lifted.
   */
  readonly documentRefusals = new Map<string, QboFault>();

  constructor(
    readonly realmId: string,
    private readonly now: () => number,
    limits: QboLimits,
    homeCurrency?: string,
  ) {
    this.company = new QboCompany(realmId, now, homeCurrency);
    this.limiter = new RealmLimiter(limits, now);
  }

  /** `rest` is the path after `/v3/company/{realm}/`. */
  handle(req: SimRequest, rest: string): SimResponse {
    const requestId = req.query.get('requestid');
    if (requestId !== null) {
      const max = rest === 'batch' ? BATCH_REQUEST_ID_MAX : REQUEST_ID_MAX;
      if (!requestId || requestId.length > max)
        return this.fault(
          new QboFault('2050', 'Invalid String Length', `requestid must be 1 to ${max} characters long.`, 'requestid'),
        );
      const earlier = this.replies.get(requestId);
      if (earlier) {
        this.counters.replayed++;
        return structuredClone(earlier);
      }
    }
    const answer = this.dispatch(req, rest);
    if (requestId && req.method === 'POST') this.replies.set(requestId, structuredClone(answer));
    return answer;
  }

  private dispatch(req: SimRequest, rest: string): SimResponse {
    try {
      const [head, id, ...more] = rest.split('/');
      if (head.toLowerCase() === 'query' && !id) return this.query(req);
      if (head.toLowerCase() === 'batch' && !id && req.method === 'POST') return this.batch(req.body);
      if (head.toLowerCase() === 'upload' && !id && req.method === 'POST') return this.upload(req);
      const entity = entityName(head);
      if (entity && req.method === 'GET' && id && more.length === 0)
        return this.ok({ [entity]: this.company.get(entity, decodeURIComponent(id)) });
      if (entity && req.method === 'POST' && !id) {
        const operation = req.query.get('operation');
        return this.ok(this.write(entity, operation, req.body));
      }
      throw QboFault.unsupported(`Operation ${req.method} ${rest} is not supported.`);
    } catch (err) {
      if (err instanceof QboFault) return this.fault(err);
      throw err;
    }
  }

  /** create, update (`operation=update`, or a body carrying Id and SyncToken) or delete; the answer's entity object. */
  private write(entity: QboEntityName, operation: string | null, body: unknown): Json {
    const op =
      operation ?? (body && typeof body === 'object' && 'Id' in body && 'SyncToken' in body ? 'update' : 'create');
    this.refuseListedDocument(entity, op, body);
    if (op === 'create') {
      const refused = this.refuseCreate?.(entity, body);
      if (refused) throw refused;
      const row = this.company.create(entity, body);
      this.count('creates', entity);
      return { [entity]: row };
    }
    if (op === 'update') {
      const row = this.company.update(entity, body);
      this.count('updates', entity);
      return { [entity]: row };
    }
    if (op === 'delete') {
      const gone = this.company.delete(entity, body);
      this.count('deletes', entity);
      return { [entity]: gone };
    }
    throw QboFault.unsupported(`operation=${op} is not supported for ${entity}.`);
  }

  private refuseListedDocument(entity: QboEntityName, op: string, body: unknown): void {
    if (op === 'delete' || this.documentRefusals.size === 0) return;
    if (![...QBO_SALES, ...QBO_PURCHASES].includes(entity)) return;
    const number = body && typeof body === 'object' ? text((body as Json).DocNumber) : '';
    const fault = this.documentRefusals.get(number);
    if (fault) throw fault;
  }

  private count(kind: 'creates' | 'updates' | 'deletes', entity: QboEntityName): void {
    this.counters[kind][entity] = (this.counters[kind][entity] ?? 0) + 1;
  }

  private query(req: SimRequest): SimResponse {
    const sql = req.method === 'POST' ? (typeof req.body === 'string' ? req.body : '') : (req.query.get('query') ?? '');
    this.counters.queries++;
    return this.ok({ QueryResponse: this.runQuery(sql) });
  }

  private runQuery(sql: string): Json {
    const query = parseQboQuery(sql);
    return runQboQuery(query, this.company.list(query.entity));
  }

  /** Items run in order; each answers on its own (entity, QueryResponse or Fault), so one bad item fails only itself. */
  private batch(body: unknown): SimResponse {
    const items = (body as Json | undefined)?.BatchItemRequest;
    if (!Array.isArray(items) || items.length === 0)
      throw QboFault.badRequest('The batch body needs a non-empty BatchItemRequest array.');
    if (items.length > QBO_BATCH_MAX)
      throw QboFault.business(
        `The batch has ${items.length} items; at most ${QBO_BATCH_MAX} are allowed in one request.`,
        'BatchItemRequest',
      );
    const ids = items.map((i) => text((i as Json)?.bId));
    if (ids.some((id) => !id)) throw QboFault.required('BatchItemRequest.bId', 'bId');
    if (new Set(ids).size !== ids.length)
      throw QboFault.business('Every bId in one batch must be different.', 'BatchItemRequest.bId');
    this.counters.batches++;
    this.counters.batchItems += items.length;
    const answers = items.map((raw, n) => {
      const item = raw as Json;
      try {
        if (typeof item.Query === 'string') {
          this.counters.queries++;
          return { bId: ids[n], QueryResponse: this.runQuery(item.Query) };
        }
        const key = Object.keys(item).find((k) => (QBO_ENTITIES as readonly string[]).includes(k));
        if (!key) throw QboFault.badRequest('The batch item names no entity (e.g. "Invoice") and no Query.');
        const operation = typeof item.operation === 'string' ? item.operation : 'create';
        return { bId: ids[n], ...this.write(key as QboEntityName, operation, item[key]) };
      } catch (err) {
        if (err instanceof QboFault) return { bId: ids[n], Fault: err.body };
        throw err;
      }
    });
    return this.ok({ BatchItemResponse: answers });
  }

  /** Intuit's multipart upload: `file_metadata_NN` (an Attachable as JSON) and `file_content_NN` (the file). */
  private upload(req: SimRequest): SimResponse {
    const parts = parseMultipart(
      String(req.headers['content-type'] ?? ''),
      typeof req.body === 'string' ? req.body : '',
    );
    if (!parts) throw QboFault.badRequest('The upload must be multipart/form-data with a boundary.');
    const files = parts.filter((p) => /^file_content_\d+$/.test(p.name));
    if (files.length === 0) throw QboFault.required('file_content_01');
    const answers: Json[] = [];
    this.counters.uploadRequests++;
    for (const file of files) {
      const suffix = file.name.slice('file_content_'.length);
      const metaPart = parts.find((p) => p.name === `file_metadata_${suffix}`);
      let meta: Json = {};
      if (metaPart) {
        try {
          meta = JSON.parse(metaPart.content) as Json;
        } catch {
          throw QboFault.badRequest(`file_metadata_${suffix} is not JSON.`);
        }
      }
      const fileName = (typeof meta.FileName === 'string' ? meta.FileName : undefined) ?? file.filename;
      if (!fileName) throw QboFault.required('FileName');
      const attachable = this.company.create('Attachable', {
        ...meta,
        FileName: fileName,
        ContentType: meta.ContentType ?? file.contentType ?? 'application/octet-stream',
        Size: Buffer.byteLength(file.content, 'utf8'),
      });
      const uri = `/v3/company/${this.realmId}/download/${attachable.Id}`;
      const stored = this.company.put('Attachable', {
        ...attachable,
        FileAccessUri: uri,
        TempDownloadUri: `${uri}?temp=1`,
      });
      this.files.set(stored.Id, file.content);
      this.count('creates', 'Attachable');
      this.counters.uploads++;
      answers.push({ Attachable: stored });
    }
    return this.ok({ AttachableResponse: answers });
  }

  private ok(body: Json): SimResponse {
    return { status: 200, body: { ...body, time: qboTime(this.now()) } };
  }

  fault(f: QboFault): SimResponse {
    return { status: f.status, body: { Fault: f.body, time: qboTime(this.now()) } };
  }

  /** The inspection view: every entity of the realm by type. */
  documents(): Record<QboEntityName, QboEntity[]> {
    return Object.fromEntries(QBO_ENTITIES.map((e) => [e, this.company.list(e)])) as Record<QboEntityName, QboEntity[]>;
  }
}
