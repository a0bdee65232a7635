import { ConfigurationError } from '@sync-hub/contracts';
import { qboEntityOf, SourceDocument } from './source-document';

/** The company's home currency in QuickBooks: Albanian companies book in lek. */
export const HOME_CURRENCY = 'ALL';

/** How a company's documents land in QuickBooks (accounting_settings, with the configured defaults). */
export interface CompanyMapping {
  companyId: number;
  /** The income item of sales lines. */
  incomeItemId: string | null;
  /** The expense account of bill lines. */
  expenseAccountId: string | null;
  tracksVat: boolean;
  /** VAT rate (as text, "20") → QuickBooks tax code id, for companies that track VAT. */
  taxCodes: Record<string, string>;
  /** Whether DevPos's PDF is attached to each QuickBooks document. */
  attachPdf: boolean;
}

/** A missing mapping is the operator's to fix: the run fails as `config`, naming what to set. */
export class MissingMappingError extends ConfigurationError {
  constructor(companyId: number, what: string) {
    super(
      'ACCOUNTING_MAPPING_MISSING',
      `company ${companyId} has no ${what}: set it in accounting_settings or its default (QBO_DEFAULT_INCOME_ITEM_ID / QBO_DEFAULT_EXPENSE_ACCOUNT_ID)`,
    );
  }
}

/** The custom field QuickBooks shows the EIC in (its string custom fields; DefinitionId 1 of the company's three). */
export const EIC_FIELD = { DefinitionId: '1', Name: 'EIC', Type: 'StringType' } as const;

/**
 * The QuickBooks document for a DevPos document: one line carrying the VAT-inclusive total (list rows have no line
 * items), the document's own dates and number, the EIC in a custom field and in the private note, and its currency
 * (with the exchange rate) when DevPos gave one, never lek by assumption when the document says otherwise.
 * `vatRate` is the document's single rate when known (the full document); a VAT company then needs its tax code.
 */
export function qboDocument(
  doc: SourceDocument,
  partyId: string,
  mapping: CompanyMapping,
  vatRate: number | null = null,
): { entity: ReturnType<typeof qboEntityOf>; body: Record<string, unknown> } {
  const entity = qboEntityOf(doc);
  const amount = Math.round(Math.abs(doc.amount) * 100) / 100;
  const description = `${doc.selfInvoice ? 'Self-invoice' : doc.kind === 'sales' ? 'Sale' : 'Purchase'} ${doc.number} (DevPos EIC ${doc.eic})`;
  const taxCode = taxCodeOf(doc, mapping, vatRate);
  const sales = doc.kind === 'sales';
  if (sales && !mapping.incomeItemId) throw new MissingMappingError(mapping.companyId, 'income item for sales lines');
  if (!sales && !mapping.expenseAccountId)
    throw new MissingMappingError(mapping.companyId, 'expense account for purchase lines');
  const line = sales
    ? {
        Amount: amount,
        Description: description,
        DetailType: 'SalesItemLineDetail',
        SalesItemLineDetail: {
          ItemRef: { value: mapping.incomeItemId },
          Qty: 1,
          UnitPrice: amount,
          ...(taxCode ? { TaxCodeRef: { value: taxCode } } : {}),
        },
      }
    : {
        Amount: amount,
        Description: description,
        DetailType: 'AccountBasedExpenseLineDetail',
        AccountBasedExpenseLineDetail: {
          AccountRef: { value: mapping.expenseAccountId },
          ...(taxCode ? { TaxCodeRef: { value: taxCode } } : {}),
        },
      };
  const currency = doc.currency ?? HOME_CURRENCY;
  const body: Record<string, unknown> = {
    [sales ? 'CustomerRef' : 'VendorRef']: { value: partyId },
    DocNumber: doc.number,
    TxnDate: doc.txnDate,
    ...(doc.dueDate && (entity === 'Invoice' || entity === 'Bill') ? { DueDate: doc.dueDate } : {}),
    PrivateNote: `DevPos EIC ${doc.eic}`,
    CurrencyRef: { value: currency },
    ...(currency !== HOME_CURRENCY && doc.exchangeRate ? { ExchangeRate: doc.exchangeRate } : {}),
    Line: [line],
    ...(sales ? { CustomField: [{ ...EIC_FIELD, StringValue: doc.eic }] } : {}),
  };
  return { entity, body };
}

function taxCodeOf(doc: SourceDocument, mapping: CompanyMapping, vatRate: number | null): string | null {
  if (!mapping.tracksVat || vatRate === null) return null;
  const code = mapping.taxCodes[String(vatRate)];
  if (!code) throw new MissingMappingError(mapping.companyId, `tax code for VAT ${vatRate}% (document ${doc.number})`);
  return code;
}
