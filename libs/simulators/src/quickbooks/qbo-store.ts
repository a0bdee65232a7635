import {
  QBO_ENTITIES,
  QBO_NAMED,
  QBO_NAME_LISTS,
  QBO_PURCHASES,
  QBO_SALES,
  QboEntity,
  QboEntityName,
  QboFault,
  qboDate,
  qboTime,
  text,
} from './qbo-model';

type Json = Record<string, unknown>;

/** Ids the seeded lists use, so a client has refs to put on its lines (see `seed`). */
export const QBO_SEED = {
  incomeAccount: '1',
  expenseAccount: '3',
  salesItem: '1',
  servicesItem: '2',
  purchasesItem: '3',
  taxCodes: { vat20: '1', vat10: '2', vat6: '3', exempt: '4' },
} as const;

/** Fields that are the server's: a full update keeps them, whatever the body says. */
const SERVER_FIELDS = ['Id', 'SyncToken', 'MetaData', 'domain'];
const NAME_PARTS = ['Title', 'GivenName', 'MiddleName', 'FamilyName', 'Suffix'];

function ref(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'value' in value) {
    const v = value.value;
    return text(v) === '' ? undefined : text(v);
  }
  return undefined;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * One QuickBooks company (realm) in memory: its lists and transactions, the rules Intuit enforces on them (required
 * fields, references that must exist, DisplayName unique across customers, vendors and employees, SyncToken), and the
 * amounts it computes (TotalAmt, Balance, line numbers). Every method returns copies; callers never hold stored rows.
 */
export class QboCompany {
  private readonly tables = new Map<QboEntityName, Map<string, QboEntity>>(QBO_ENTITIES.map((e) => [e, new Map()]));
  private nextId = 100;
  private nextDocNumber = 1001;

  constructor(
    readonly realmId: string,
    private readonly now: () => number,
    readonly homeCurrency = 'ALL',
  ) {
    this.seed();
  }

  list(entity: QboEntityName): QboEntity[] {
    return [...this.table(entity).values()].map(clone);
  }

  get(entity: QboEntityName, id: string): QboEntity {
    const found = this.table(entity).get(id);
    if (!found) throw QboFault.notFound(entity, id);
    return clone(found);
  }

  has(entity: QboEntityName, id: string): boolean {
    return this.table(entity).has(id);
  }

  create(entity: QboEntityName, body: unknown): QboEntity {
    if (entity === 'TaxCode') throw QboFault.unsupported('TaxCode is read-only: tax codes come from the tax service.');
    const input = this.object(body);
    const row: Json = { ...clone(input) };
    for (const f of SERVER_FIELDS) delete row[f];
    delete row.sparse;
    const id = String(this.nextId++);
    const time = qboTime(this.now());
    const stored = this.complete(
      entity,
      { ...row, Id: id, SyncToken: '0', MetaData: { CreateTime: time, LastUpdatedTime: time } },
      true,
    );
    this.table(entity).set(id, stored);
    return clone(stored);
  }

  /** `sparse: true` replaces only the top-level fields given; otherwise the body is the whole new entity. */
  update(entity: QboEntityName, body: unknown): QboEntity {
    if (entity === 'TaxCode') throw QboFault.unsupported('TaxCode is read-only: tax codes come from the tax service.');
    const input = this.object(body);
    const id = text(input.Id);
    if (!id) throw QboFault.required('Id');
    if (input.SyncToken === undefined || input.SyncToken === null) throw QboFault.required('SyncToken');
    const current = this.table(entity).get(id);
    if (!current) throw QboFault.notFound(entity, id);
    if (text(input.SyncToken) !== current.SyncToken) throw QboFault.stale(entity);
    const changes: Json = clone(input);
    const sparse = changes.sparse === true || changes.sparse === 'true';
    for (const f of [...SERVER_FIELDS, 'sparse']) delete changes[f];
    const base: Json = sparse ? clone(current) : Object.fromEntries(SERVER_FIELDS.map((f) => [f, clone(current[f])]));
    const meta = current.MetaData as Json;
    const merged = {
      ...base,
      ...changes,
      Id: id,
      SyncToken: String(Number(current.SyncToken) + 1),
      MetaData: { ...meta, LastUpdatedTime: qboTime(this.now()) },
    };
    const stored = this.complete(entity, merged, false);
    this.table(entity).set(id, stored);
    return clone(stored);
  }

  /** Transactions and attachments are deleted; name lists cannot be (Intuit: update them with `Active: false`). */
  delete(entity: QboEntityName, body: unknown): Json {
    if (QBO_NAME_LISTS.includes(entity) || entity === 'TaxCode')
      throw QboFault.unsupported(`${entity} cannot be deleted; make it inactive with Active=false.`);
    const input = this.object(body);
    const id = text(input.Id);
    if (!id) throw QboFault.required('Id');
    const current = this.table(entity).get(id);
    if (!current) throw QboFault.notFound(entity, id);
    if (text(input.SyncToken) !== current.SyncToken) throw QboFault.stale(entity);
    this.table(entity).delete(id);
    return { status: 'Deleted', domain: 'QBO', Id: id };
  }

  /** Out of band (a person in QBO): a row as given, for tests to start from or to provoke 6240 / 610 / 5010. */
  put(entity: QboEntityName, fields: Json): QboEntity {
    const id = fields.Id === undefined ? String(this.nextId++) : text(fields.Id);
    const time = qboTime(this.now());
    const row = {
      domain: 'QBO',
      sparse: false,
      ...clone(fields),
      Id: id,
      SyncToken: fields.SyncToken === undefined ? '0' : text(fields.SyncToken),
      MetaData: fields.MetaData ?? { CreateTime: time, LastUpdatedTime: time },
    } as QboEntity;
    this.table(entity).set(id, row);
    return clone(row);
  }

  /** Out of band: the entity disappears (deleted in QBO); a read then answers 610. */
  remove(entity: QboEntityName, id: string): boolean {
    return this.table(entity).delete(id);
  }

  /** Out of band: someone else edited it, so the SyncToken a client holds is stale (5010). */
  touch(entity: QboEntityName, id: string): QboEntity {
    const row = this.table(entity).get(id);
    if (!row) throw QboFault.notFound(entity, id);
    row.SyncToken = String(Number(row.SyncToken) + 1);
    row.MetaData = { ...(row.MetaData as Json), LastUpdatedTime: qboTime(this.now()) };
    return clone(row);
  }

  private table(entity: QboEntityName): Map<string, QboEntity> {
    return this.tables.get(entity)!;
  }

  private object(body: unknown): Json {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw QboFault.badRequest('The request body is not a JSON object of the entity.');
    return body as Json;
  }

  /** Validates a new or updated row and fills what QuickBooks computes. */
  private complete(entity: QboEntityName, row: Json, created: boolean): QboEntity {
    if (QBO_NAMED.includes(entity)) this.named(entity, row);
    if (entity === 'Item' || entity === 'Account') {
      if (typeof row.Name !== 'string' || !row.Name.trim()) throw QboFault.required('Name');
      if (row.Active === undefined) row.Active = true;
    }
    if (QBO_SALES.includes(entity)) this.transaction(entity, row, 'CustomerRef', 'Customer', created);
    if (QBO_PURCHASES.includes(entity)) this.transaction(entity, row, 'VendorRef', 'Vendor', created);
    if (entity === 'Attachable') this.attachable(row);
    return { domain: 'QBO', sparse: false, ...row } as unknown as QboEntity;
  }

  private named(entity: QboEntityName, row: Json): void {
    let name = typeof row.DisplayName === 'string' ? row.DisplayName.trim() : '';
    if (!name) {
      name = NAME_PARTS.map((p) => row[p])
        .filter((p): p is string => typeof p === 'string' && p.trim() !== '')
        .join(' ');
      if (!name)
        throw QboFault.required('DisplayName', 'DisplayName (or Title, GivenName, MiddleName, FamilyName, Suffix)');
    }
    if (name.includes(':')) throw QboFault.business('A name cannot contain a colon (:).', 'DisplayName');
    const key = name.toLowerCase();
    for (const other of QBO_NAMED)
      for (const existing of this.table(other).values())
        if (!(other === entity && existing.Id === row.Id) && text(existing.DisplayName).trim().toLowerCase() === key)
          throw QboFault.duplicateName(name);
    row.DisplayName = name;
    if (row.Active === undefined) row.Active = true;
    if (entity !== 'Employee') {
      row.CurrencyRef ??= { value: this.homeCurrency };
      row.Balance ??= 0;
    }
  }

  private transaction(
    entity: QboEntityName,
    row: Json,
    partyField: string,
    party: QboEntityName,
    created: boolean,
  ): void {
    const partyId = ref(row[partyField]);
    if (!partyId) throw QboFault.required(partyField);
    const partyRow = this.table(party).get(partyId);
    if (!partyRow) throw QboFault.invalidRef(partyField, party, partyId);
    if (!Array.isArray(row.Line) || row.Line.length === 0) throw QboFault.required('Line');
    const currency = ref(row.CurrencyRef) ?? ref(partyRow.CurrencyRef) ?? this.homeCurrency;
    const partyCurrency = ref(partyRow.CurrencyRef) ?? this.homeCurrency;
    if (currency !== partyCurrency)
      throw QboFault.business(
        `The currency of the transaction (${currency}) must match the ${party.toLowerCase()}'s currency (${partyCurrency}).`,
        'CurrencyRef',
      );
    row.CurrencyRef = { value: currency, ...(row.CurrencyRef as Json) };
    if (currency !== this.homeCurrency && row.ExchangeRate === undefined) row.ExchangeRate = 1;
    const lines = (row.Line as unknown[]).filter(
      (l) => !(l && typeof l === 'object' && (l as Json).DetailType === 'SubTotalLineDetail'),
    );
    let total = 0;
    lines.forEach((raw, i) => {
      if (!raw || typeof raw !== 'object') throw QboFault.badRequest(`Line ${i + 1} is not an object.`);
      const line = raw as Json;
      if (line.Amount === undefined || Number.isNaN(Number(line.Amount)))
        throw QboFault.required('Line.Amount', 'Amount');
      this.lineRefs(line);
      total += Number(line.Amount);
      line.Id = String(i + 1);
      line.LineNum = i + 1;
    });
    const tax = Number((row.TxnTaxDetail as Json | undefined)?.TotalTax ?? 0) || 0;
    total = Math.round((total + tax) * 100) / 100;
    if (QBO_SALES.includes(entity))
      lines.push({ Amount: total - tax, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} });
    row.Line = lines;
    row.TotalAmt = total;
    if (entity === 'CreditMemo') row.RemainingCredit = total;
    else if (entity !== 'VendorCredit') row.Balance = total;
    if (created && entity === 'Invoice' && row.DocNumber === undefined) row.DocNumber = String(this.nextDocNumber++);
    row.TxnDate ??= qboDate(this.now());
    if (QBO_PURCHASES.includes(entity)) row.APAccountRef ??= { value: '5', name: 'Accounts Payable (A/P)' };
  }

  /** Every ref a line names must exist: items, accounts, tax codes. */
  private lineRefs(line: Json): void {
    const detail = line[text(line.DetailType)] as Json | undefined;
    if (!detail || typeof detail !== 'object') return;
    const checks: Array<[string, QboEntityName]> = [
      ['ItemRef', 'Item'],
      ['AccountRef', 'Account'],
      ['TaxCodeRef', 'TaxCode'],
    ];
    for (const [field, target] of checks) {
      const id = ref(detail[field]);
      if (id === undefined) continue;
      if (field === 'TaxCodeRef' && (id === 'TAX' || id === 'NON')) continue;
      if (!this.table(target).has(id)) throw QboFault.invalidRef(`Line.${text(line.DetailType)}.${field}`, target, id);
    }
  }

  private attachable(row: Json): void {
    const refs = Array.isArray(row.AttachableRef) ? (row.AttachableRef as Json[]) : [];
    for (const link of refs) {
      const entityRef = (link?.EntityRef ?? {}) as Json;
      const type = QBO_ENTITIES.find((e) => e.toLowerCase() === text(entityRef.type).toLowerCase());
      const id = text(entityRef.value);
      if (!type) throw QboFault.invalidRef('AttachableRef.EntityRef', text(entityRef.type) || 'entity', id);
      if (!this.table(type).has(id)) throw QboFault.invalidRef('AttachableRef.EntityRef', type, id);
    }
    if (typeof row.FileName === 'string' && row.FileName.includes('/'))
      throw QboFault.business(`The file name "${row.FileName}" contains "/", which is not allowed.`, 'FileName');
  }

  private seed(): void {
    const accounts: Array<[string, string, string, string]> = [
      ['1', 'Sales', 'Income', 'SalesOfProductIncome'],
      ['2', 'Purchases', 'Cost of Goods Sold', 'SuppliesMaterialsCogs'],
      ['3', 'Office Expenses', 'Expense', 'OfficeGeneralAdministrativeExpenses'],
      ['4', 'Accounts Receivable (A/R)', 'Accounts Receivable', 'AccountsReceivable'],
      ['5', 'Accounts Payable (A/P)', 'Accounts Payable', 'AccountsPayable'],
    ];
    for (const [Id, Name, AccountType, AccountSubType] of accounts)
      this.put('Account', { Id, Name, FullyQualifiedName: Name, AccountType, AccountSubType, Active: true });
    this.put('Item', {
      Id: '1',
      Name: 'Sales',
      Type: 'Service',
      Active: true,
      IncomeAccountRef: { value: '1', name: 'Sales' },
    });
    this.put('Item', {
      Id: '2',
      Name: 'Services',
      Type: 'Service',
      Active: true,
      IncomeAccountRef: { value: '1', name: 'Sales' },
    });
    this.put('Item', {
      Id: '3',
      Name: 'Purchases',
      Type: 'NonInventory',
      Active: true,
      ExpenseAccountRef: { value: '2', name: 'Purchases' },
    });
    const codes: Array<[string, string, number]> = [
      ['1', 'VAT 20%', 20],
      ['2', 'VAT 10%', 10],
      ['3', 'VAT 6%', 6],
      ['4', 'Exempt', 0],
    ];
    for (const [Id, Name, rate] of codes)
      this.put('TaxCode', {
        Id,
        Name,
        Description: Name,
        Active: true,
        Taxable: rate > 0,
        TaxGroup: true,
        RateValue: rate,
      });
  }
}
