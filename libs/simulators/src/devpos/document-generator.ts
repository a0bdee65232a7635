import { DateTime } from 'luxon';
import { pick, seededRandom } from '../random';

/** DevPos answers in Albania's local time: every date it gives carries this zone's offset of that date. */
export const DEVPOS_ZONE = 'Europe/Tirane';

export type DevposInvoiceStatus = 'Dërguar' | 'Pranuar' | 'Refuzuar';
export type DevposDocumentKind = 'sales' | 'purchase';

/** One row of GetSalesInvoice / GetPurchaseInvoice, as observed (upstream-apis.md section 7): no currency, no VAT. */
export interface DevposListRow {
  eic: string;
  documentNumber: string;
  invoiceCreatedDate: string;
  dueDate: string;
  invoiceStatus: DevposInvoiceStatus;
  /** VAT included, in the document's own currency (which the row does not say); negative on credit notes. */
  amount: number;
  buyerNuis: string;
  buyerName: string;
  sellerNuis: string;
  sellerName: string;
  /** "Shitje" (sale) observed on sales rows; "Blerje" (purchase) on purchase rows is inferred. */
  partyType: string;
  /** Set on self-invoices (vetëfaturim) only, which the sales list carries; null otherwise. */
  selfIssuingType: string | null;
  /** The real counterpart of a self-invoice (the supplier the tenant invoiced itself for); null otherwise. */
  customer: { name: string; idNumber: string } | null;
}

export interface DevposInvoiceProduct {
  Name: string;
  Quantity: number;
  Unit: string;
  unitPrice: number;
  vatRate: number;
  vatAmount: number;
  totalPriceBeforeVat: number;
  totalPriceAfterVat: number;
}

/**
 * The full document of `GET /api/v3/EInvoice?EIC=…` (official spec section 5.3 as quoted, its casing kept), plus the
 * list row's own fields so a client can use either. The PDF is added when served.
 */
export interface DevposDocument extends DevposListRow {
  invoiceType: 'Invoice' | 'CreditNote';
  currencyCode: 'ALL' | 'EUR';
  /** ALL per unit of `currencyCode`: 1 for ALL. */
  exchangeRate: number;
  totalPriceWithoutVat: number;
  totalVatAmount: number;
  totalPrice: number;
  isReverseCharge: boolean;
  payDeadline: string;
  /** The counterpart: the buyer of a sale, the tenant on a purchase, the supplier of a self-invoice. */
  Customer: { idNumber: string; idType: string; name: string; Address: string; Town: string };
  invoiceProducts: DevposInvoiceProduct[];
  invoicePayments: Array<{ paymentMethodType: 0 | 1; amount: number }>;
}

export interface GeneratedDocument {
  kind: DevposDocumentKind;
  row: DevposListRow;
  document: DevposDocument;
}

export interface DevposGenerateOptions {
  /** First and last local (Tirane) date, YYYY-MM-DD, inclusive. */
  from: string;
  to: string;
  salesPerDay: number;
  purchasesPerDay: number;
  seed?: number;
}

interface Party {
  nuis: string;
  name: string;
  town: string;
  address: string;
}

const COMPANY_WORDS = ['Alba', 'Iliria', 'Adriatik', 'Drini', 'Vjosa', 'Dajti', 'Tomori', 'Butrinti', 'Shkumbini'];
const COMPANY_TRADES = ['Trade', 'Construction', 'Food', 'Telecom', 'Logistics', 'Energy', 'Tech', 'Market'];
const FIRST = ['Arben', 'Blerina', 'Dorian', 'Ermira', 'Gentian', 'Klea', 'Mimoza', 'Sokol', 'Vjollca', 'Ylli'];
const LAST = ['Hoxha', 'Kola', 'Leka', 'Marku', 'Shehu', 'Tafa', 'Gashi', 'Mema'];
const TOWNS = ['Tiranë', 'Durrës', 'Vlorë', 'Shkodër', 'Elbasan', 'Korçë', 'Fier', 'Berat'];
const STREETS = ['Rruga e Kavajës', 'Bulevardi Zogu I', 'Rruga e Durrësit', 'Rruga Myslym Shyri', 'Rruga e Elbasanit'];
const GOODS: Array<{ name: string; unit: string; price: [number, number] }> = [
  { name: 'Shërbim interneti', unit: 'muaj', price: [1500, 6000] },
  { name: 'Konsulencë', unit: 'orë', price: [2500, 9000] },
  { name: 'Material ndërtimi', unit: 'copë', price: [300, 4000] },
  { name: 'Karburant', unit: 'litër', price: [170, 210] },
  { name: 'Pajisje zyre', unit: 'copë', price: [1200, 45000] },
  { name: 'Transport malli', unit: 'udhëtim', price: [5000, 30000] },
];
/** Self-issue types of the Albanian fiscalisation schema (inferred: DevPos's own values were not observed). */
const SELF_ISSUING_TYPES = ['AGREEMENT', 'DOMESTIC', 'ABROAD'];
/** Rates drawn per document; the list row hides them, the full document carries them. */
const RATES = { selfInvoice: 0.05, rejected: 0.05, creditNote: 0.05, zero: 0.03, eur: 0.08 };

function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function between(random: () => number, [low, high]: [number, number]): number {
  return low + Math.floor(random() * (high - low + 1));
}

/** A tax id shaped like a NUIS/NIPT: a letter, eight digits, a letter. */
export function nuis(random: () => number): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let digits = '';
  for (let i = 0; i < 8; i++) digits += String(Math.floor(random() * 10));
  return `${pick(random, ['J', 'K', 'L', 'M'])}${digits}${pick(random, [...letters])}`;
}

/** 36 characters shaped like a UUID v4, drawn from the PRNG so a seed gives the same EIC every time. */
export function uuidV4(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)];
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function person(random: () => number): string {
  return `${pick(random, FIRST)} ${pick(random, LAST)}`;
}

function party(random: () => number, withNuis: boolean, name: string): Party {
  return {
    nuis: withNuis ? nuis(random) : '',
    name,
    town: pick(random, TOWNS),
    address: `${pick(random, STREETS)} ${1 + Math.floor(random() * 200)}`,
  };
}

/**
 * A tenant's DevPos documents: per local day a fixed number of sales and purchases whose contents depend only on
 * (seed, tenant, day), so any range gives the same documents for the days it covers. Numbers `N/YYYY` count from the
 * first of January at that fixed rate, so they are sequential per year and per tenant whatever range is generated.
 * Customers and vendors come from a small pool per (seed, tenant), so the same parties recur; some have no NUIS.
 */
export class DevposDocumentGenerator {
  readonly customers: Party[];
  readonly vendors: Party[];
  readonly tenantName: string;

  constructor(
    readonly tenant: string,
    readonly seed = 42,
  ) {
    const random = seededRandom(hash(`${seed}|${tenant}|parties`));
    this.tenantName = `${pick(random, COMPANY_WORDS)} ${pick(random, COMPANY_TRADES)} sh.p.k.`;
    const company = () =>
      `${pick(random, COMPANY_WORDS)} ${pick(random, COMPANY_TRADES)} ${pick(random, ['sh.p.k.', 'sh.a.'])}`;
    // Eight companies and four private persons (no NUIS) buy; six vendors sell, one of them without a NUIS.
    this.customers = [
      ...Array.from({ length: 8 }, () => party(random, true, company())),
      ...Array.from({ length: 4 }, () => party(random, false, person(random))),
    ];
    this.vendors = [
      ...Array.from({ length: 5 }, () => party(random, true, company())),
      party(random, false, person(random)),
    ];
  }

  /** Every document of the range, sales and purchases, in creation order per kind. */
  generate(options: DevposGenerateOptions): GeneratedDocument[] {
    const out: GeneratedDocument[] = [];
    const from = DateTime.fromISO(options.from, { zone: DEVPOS_ZONE });
    const to = DateTime.fromISO(options.to, { zone: DEVPOS_ZONE });
    if (!from.isValid || !to.isValid)
      throw new Error(`from and to must be dates (YYYY-MM-DD): ${options.from}..${options.to}`);
    for (const n of [options.salesPerDay, options.purchasesPerDay])
      if (!Number.isInteger(n) || n < 0) throw new Error('salesPerDay and purchasesPerDay must be whole numbers ≥ 0');
    for (let day = from.startOf('day'); day <= to; day = day.plus({ days: 1 })) {
      out.push(...this.day(day.toISODate(), 'sales', options.salesPerDay));
      out.push(...this.day(day.toISODate(), 'purchase', options.purchasesPerDay));
    }
    return out;
  }

  /** One local day's documents of one kind. */
  day(date: string, kind: DevposDocumentKind, perDay: number): GeneratedDocument[] {
    if (perDay <= 0) return [];
    const random = seededRandom(hash(`${this.seed}|${this.tenant}|${date}|${kind}`));
    const day = DateTime.fromISO(date, { zone: DEVPOS_ZONE });
    const seconds = Array.from({ length: perDay }, () => 8 * 3600 + Math.floor(random() * 11 * 3600)).sort(
      (a, b) => a - b,
    );
    // EUR rate of the day: the same for every document that day.
    const eurRate = round2(97 + random() * 4);
    return seconds.map((second, i) => {
      const number = (day.ordinal - 1) * perDay + i + 1;
      // Set as a local clock time, not added as a duration: a day when the clocks change has 23 or 25 hours.
      const created = day.set({
        hour: Math.floor(second / 3600),
        minute: Math.floor(second / 60) % 60,
        second: second % 60,
      });
      return this.document(random, kind, created, `${number}/${day.year}`, eurRate);
    });
  }

  private document(
    random: () => number,
    kind: DevposDocumentKind,
    created: DateTime,
    documentNumber: string,
    eurRate: number,
  ): GeneratedDocument {
    const eic = uuidV4(random);
    const selfInvoice = kind === 'sales' && random() < RATES.selfInvoice;
    const creditNote = random() < RATES.creditNote;
    const zero = !creditNote && random() < RATES.zero;
    const eur = random() < RATES.eur;
    const rejected = random() < RATES.rejected;
    const accepted = random() < (kind === 'purchase' ? 0.7 : 0.45);
    const invoiceStatus: DevposInvoiceStatus = rejected ? 'Refuzuar' : accepted ? 'Pranuar' : 'Dërguar';
    const iso = (d: DateTime) => d.toISO({ suppressMilliseconds: true })!;
    const due = created.plus({ days: pick(random, [0, 15, 30, 30, 60]) });

    const tenantParty: Party = { nuis: this.tenant, name: this.tenantName, town: 'Tiranë', address: STREETS[0] };
    let counterpart: Party;
    let selfIssuingType: string | null = null;
    let customer: DevposListRow['customer'] = null;
    if (selfInvoice) {
      // The tenant invoices itself for a supplier who cannot (a farmer, a foreign company): a purchase in substance.
      selfIssuingType = pick(random, SELF_ISSUING_TYPES);
      counterpart = party(random, true, selfIssuingType === 'ABROAD' ? 'Adria Supplies GmbH' : person(random));
      customer = { name: counterpart.name, idNumber: counterpart.nuis };
    } else {
      counterpart = pick(random, kind === 'sales' ? this.customers : this.vendors);
    }

    const vatRate = selfIssuingType === 'ABROAD' ? 0 : pick(random, [20, 20, 20, 20, 6, 0]);
    const sign = creditNote ? -1 : 1;
    const products: DevposInvoiceProduct[] = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
      const good = pick(random, GOODS);
      const quantity = sign * (1 + Math.floor(random() * 5));
      const unitPrice = zero ? 0 : round2(between(random, good.price) / (eur ? eurRate : 1));
      const before = round2(quantity * unitPrice);
      const vatAmount = round2((before * vatRate) / 100);
      return {
        Name: good.name,
        Quantity: quantity,
        Unit: good.unit,
        unitPrice,
        vatRate,
        vatAmount,
        totalPriceBeforeVat: before,
        totalPriceAfterVat: round2(before + vatAmount),
      };
    });
    const totals = DevposDocumentGenerator.totals(products);

    const sale = kind === 'sales';
    const seller = sale ? tenantParty : counterpart;
    const buyer = sale && !selfInvoice ? counterpart : tenantParty;
    const row: DevposListRow = {
      eic,
      documentNumber,
      invoiceCreatedDate: iso(created),
      dueDate: iso(due),
      invoiceStatus,
      amount: totals.totalPrice,
      buyerNuis: buyer.nuis,
      buyerName: buyer.name,
      sellerNuis: seller.nuis,
      // Observed: the sales list leaves the seller's name empty (the seller is the tenant).
      sellerName: sale ? '' : seller.name,
      partyType: sale ? 'Shitje' : 'Blerje',
      selfIssuingType,
      customer,
    };
    const shown = sale ? counterpart : tenantParty;
    const document: DevposDocument = {
      ...row,
      invoiceType: creditNote ? 'CreditNote' : 'Invoice',
      currencyCode: eur ? 'EUR' : 'ALL',
      exchangeRate: eur ? eurRate : 1,
      ...totals,
      isReverseCharge: selfIssuingType === 'ABROAD',
      payDeadline: iso(due),
      Customer: {
        idNumber: shown.nuis,
        idType: shown.nuis ? 'NUIS' : 'ID',
        name: shown.name,
        Address: shown.address,
        Town: shown.town,
      },
      invoiceProducts: products,
      invoicePayments: [{ paymentMethodType: random() < 0.6 ? 1 : 0, amount: totals.totalPrice }],
    };
    return { kind, row, document };
  }

  /** The document's totals from its lines (used again when a test changes a document's amount). */
  static totals(
    products: DevposInvoiceProduct[],
  ): Pick<DevposDocument, 'totalPriceWithoutVat' | 'totalVatAmount' | 'totalPrice'> {
    const sum = (f: (p: DevposInvoiceProduct) => number) => round2(products.reduce((a, p) => a + f(p), 0));
    return {
      totalPriceWithoutVat: sum((p) => p.totalPriceBeforeVat),
      totalVatAmount: sum((p) => p.vatAmount),
      totalPrice: sum((p) => p.totalPriceAfterVat),
    };
  }
}

/** A small valid PDF (one page, a few lines of text, a correct cross-reference table) standing in for DevPos's. */
export function documentPdf(document: DevposDocument): Buffer {
  const ascii = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[^\x20-\x7e]/g, '')
      .replace(/[()\\]/g, '');
  const lines = [
    `Fature ${document.documentNumber}`,
    `EIC ${document.eic}`,
    `${document.sellerName || document.sellerNuis} -> ${document.buyerName}`,
    `Totali ${document.totalPrice.toFixed(2)} ${document.currencyCode}`,
  ].map(ascii);
  const text = lines.map((l, i) => `BT /F1 12 Tf 50 ${780 - i * 20} Td (${l}) Tj ET`).join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(text, 'latin1')} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}
