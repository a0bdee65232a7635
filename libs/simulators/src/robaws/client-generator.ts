import { pick, seededRandom } from '../random';

/** An extra field's value object as Robaws serialises it (`stringValue`, `booleanValue`, `dateValue`, …). */
export interface RobawsExtraField {
  type: string;
  group: string | null;
  stringValue?: string;
  booleanValue?: boolean;
  dateValue?: string;
  decimalValue?: number;
  integerValue?: number;
}

export interface RobawsAddress {
  addressLine1: string | null;
  addressLine2: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
}

/** A client as `GET /api/v2/clients/{id}` answers it (upstream reference, section 3 "Client object"). */
export interface RobawsClient {
  id: number;
  name: string;
  email: string | null;
  tel: string | null;
  gsm: string | null;
  website: string | null;
  vatNumber: string | null;
  currency: string;
  language: string;
  isActive: boolean;
  address: RobawsAddress;
  extraFields: Record<string, RobawsExtraField>;
  createdAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

export const ROBAWS_ROLES = [
  'CUSTOMER',
  'LUXURY CAR DEALER',
  'FORWARDER',
  'FREIGHT FORWARDER',
  'SUPPLIER',
  'SHIPPING LINE',
  'PARTNER',
] as const;

type Country = 'BE' | 'NL' | 'FR' | 'DE' | 'LU';

const COUNTRIES: Country[] = ['BE', 'BE', 'BE', 'BE', 'NL', 'NL', 'FR', 'FR', 'DE', 'DE', 'LU'];
const CITIES: Record<Country, Array<[string, string]>> = {
  BE: [
    ['9000', 'Gent'],
    ['2000', 'Antwerpen'],
    ['1000', 'Brussel'],
    ['8000', 'Brugge'],
    ['3000', 'Leuven'],
  ],
  NL: [
    ['1012 AB', 'Amsterdam'],
    ['3011 AD', 'Rotterdam'],
    ['3511 LX', 'Utrecht'],
  ],
  FR: [
    ['75008', 'Paris'],
    ['69002', 'Lyon'],
    ['59000', 'Lille'],
  ],
  DE: [
    ['10115', 'Berlin'],
    ['20095', 'Hamburg'],
    ['50667', 'Köln'],
  ],
  LU: [['1111', 'Luxembourg']],
};
const STREETS: Record<Country, string[]> = {
  BE: ['Kerkstraat', 'Stationsstraat', 'Rue de la Loi', 'Nijverheidslaan'],
  NL: ['Hoofdstraat', 'Dorpsstraat', 'Keizersgracht'],
  FR: ['Rue de Rivoli', 'Avenue Foch', 'Rue Nationale'],
  DE: ['Hauptstraße', 'Bahnhofstraße', 'Schillerstraße'],
  LU: ['Grand-Rue', 'Avenue de la Liberté'],
};
const LANGUAGE: Record<Country, string> = { BE: 'nl', NL: 'nl', FR: 'fr', DE: 'de', LU: 'fr' };
const WORDS = ['Cars', 'Logistics', 'Motors', 'Trading', 'Shipping', 'Auto', 'Export', 'Group', 'Garage', 'Transport'];
const PREFIX = [
  'Van Dijk',
  'Peeters',
  'Dubois',
  'Müller',
  'Janssens',
  'Maes',
  'Martin',
  'Schmidt',
  'De Vries',
  'Weber',
];
const SUFFIX: Record<Country, string[]> = {
  BE: ['BV', 'NV', 'SRL', 'BVBA'],
  NL: ['B.V.', 'V.O.F.'],
  FR: ['SARL', 'SAS'],
  DE: ['GmbH', 'KG'],
  LU: ['S.à r.l.', 'S.A.'],
};

function digits(random: () => number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(Math.floor(random() * 10));
  return out;
}

/** Groups a digit string as `sizes` says, joined by `sep`: the same number written the ways people write it. */
function group(value: string, sizes: number[], sep: string): string {
  const parts: string[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(value.slice(at, at + size));
    at += size;
  }
  if (at < value.length) parts.push(value.slice(at));
  return parts.filter(Boolean).join(sep);
}

/**
 * A valid phone number (in the number plan's ranges, so a parser accepts it) in one of the formats people type for
 * that country: international, national, dotted, slashed, with `(0)`.
 */
function phone(random: () => number, country: Country, mobile: boolean): string {
  switch (country) {
    case 'BE': {
      const national = mobile ? `47${digits(random, 7)}` : `9${2 + Math.floor(random() * 3)}${digits(random, 6)}`;
      return pick(random, [
        `+32 ${group(national, mobile ? [3, 2, 2, 2] : [1, 3, 2, 2], ' ')}`,
        `0${group(national, mobile ? [3, 2, 2, 2] : [1, 3, 2, 2], ' ')}`,
        `0${national.slice(0, mobile ? 3 : 1)}/${group(national.slice(mobile ? 3 : 1), [2, 2, 2, 2], '.')}`,
        `0032${national}`,
        `+32 (0)${national}`,
      ]);
    }
    case 'NL': {
      const national = mobile ? `6${1 + Math.floor(random() * 5)}${digits(random, 7)}` : `20${digits(random, 7)}`;
      return pick(random, [
        `+31 ${group(national, mobile ? [1, 8] : [2, 3, 4], ' ')}`,
        `0${national.slice(0, mobile ? 1 : 2)}-${national.slice(mobile ? 1 : 2)}`,
        `0031 ${national}`,
      ]);
    }
    case 'FR': {
      const national = `${mobile ? '6' : '1'}${pick(random, ['1', '2', '4'])}${digits(random, 7)}`;
      return pick(random, [
        `+33 ${group(national, [1, 2, 2, 2, 2], ' ')}`,
        `0${group(national, [1, 2, 2, 2, 2], ' ')}`,
        `0${group(national, [1, 2, 2, 2, 2], '.')}`,
      ]);
    }
    case 'DE': {
      const national = mobile ? `171${digits(random, 7)}` : `30${digits(random, 7)}`;
      return pick(random, [
        `+49 ${group(national, mobile ? [3, 7] : [2, 7], ' ')}`,
        `0${national.slice(0, mobile ? 3 : 2)}/${national.slice(mobile ? 3 : 2)}`,
        `+49 (0)${group(national, mobile ? [3, 7] : [2, 7], ' ')}`,
      ]);
    }
    case 'LU': {
      const national = mobile ? `621${digits(random, 6)}` : `4${digits(random, 5)}`;
      return pick(random, [`+352 ${group(national, [3, 3, 3], ' ')}`, `00352 ${national}`]);
    }
  }
}

/** The number part of a VAT number whose check digits are right for the country (as jsvat checks them). */
function validVatNumber(random: () => number, country: Country): string {
  switch (country) {
    case 'BE': {
      const base = `0${String(2 + Math.floor(random() * 8))}${digits(random, 6)}`;
      return `${base}${String(97 - (Number(base) % 97)).padStart(2, '0')}`;
    }
    case 'NL': {
      // The old BSN-style "elfproef": weights 9..2 over the first eight digits, the ninth is the sum mod 11.
      for (;;) {
        const base = digits(random, 8);
        const sum = [...base].reduce((s, d, i) => s + Number(d) * (9 - i), 0) % 11;
        if (sum < 10) return `${base}${sum}B0${1 + Math.floor(random() * 9)}`;
      }
    }
    case 'FR': {
      const siren = `${1 + Math.floor(random() * 9)}${digits(random, 8)}`;
      const key = (12 + 3 * (Number(siren) % 97)) % 97;
      return `${String(key).padStart(2, '0')}${siren}`;
    }
    case 'DE': {
      // ISO 7064 MOD 11,10 over the first eight digits.
      const base = `${1 + Math.floor(random() * 9)}${digits(random, 7)}`;
      let product = 10;
      for (const d of base) {
        let sum = (Number(d) + product) % 10;
        if (sum === 0) sum = 10;
        product = (2 * sum) % 11;
      }
      const check = (11 - product) % 10;
      return `${base}${check}`;
    }
    case 'LU': {
      const base = `${1 + Math.floor(random() * 9)}${digits(random, 5)}`;
      return `${base}${String(Number(base) % 89).padStart(2, '0')}`;
    }
  }
}

/** The VAT number written the ways clients' records hold them: spaced, dotted, lower case, without the prefix. */
function vat(random: () => number, country: Country): string {
  let number = validVatNumber(random, country);
  // A few carry a typo: a wrong check digit, which a sync must keep and flag rather than drop.
  if (random() < 0.03) number = number.slice(0, -1) + String((Number(number.slice(-1)) + 1) % 10);
  return pick(random, [
    `${country}${number}`,
    `${country}${number}`,
    `${country} ${group(number, [4, 3, 3], '.')}`,
    `${country.toLowerCase()}${number}`,
    `${country}-${number}`,
    number,
  ]);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Client `id` from the seed: a Belgian-centred customer base (BE, NL, FR, DE, LU) with messy phones and VAT numbers
 * in several formats, a Role extra field on about nine in ten, and a few other extra fields. Same seed and id, same
 * client.
 */
export function generateClient(seed: number, id: number): RobawsClient {
  const random = seededRandom(seed * 1_000_003 + id * 7919);
  const country = pick(random, COUNTRIES);
  const [postalCode, city] = pick(random, CITIES[country]);
  const name = `${pick(random, PREFIX)} ${pick(random, WORDS)} ${pick(random, SUFFIX[country])}`;
  const slug = name
    .toLowerCase()
    .normalize('NFD')
    .replace(/[^a-z0-9]+/g, '');
  const created = Date.UTC(2019, 0, 1) + Math.floor(random() * 5 * 365 * 86400) * 1000;
  const updated = created + Math.floor(random() * 300 * 86400) * 1000;
  const extraFields: Record<string, RobawsExtraField> = {};
  if (random() < 0.9) extraFields.Role = { type: 'SELECT', group: null, stringValue: pick(random, ROBAWS_ROLES) };
  if (random() < 0.6) extraFields.PRICING = { type: 'SELECT', group: null, stringValue: pick(random, ['A', 'B', 'C']) };
  if (random() < 0.4) extraFields.Newsletter = { type: 'BOOLEAN', group: 'Marketing', booleanValue: random() < 0.5 };
  if (random() < 0.3)
    extraFields['Customer since'] = { type: 'DATE', group: null, dateValue: iso(created).slice(0, 10) };
  const unparseable = random() < 0.03;
  return {
    id,
    name,
    email: random() < 0.92 ? `${pick(random, ['info', 'sales', 'admin', 'office'])}@${slug}${id}.example` : null,
    tel: unparseable
      ? pick(random, ['n/a', 'ask reception', '-'])
      : random() < 0.85
        ? phone(random, country, false)
        : null,
    gsm: random() < 0.6 ? phone(random, country, true) : null,
    website: random() < 0.5 ? `https://www.${slug}${id}.example` : null,
    vatNumber: random() < 0.85 ? vat(random, country) : null,
    currency: 'EUR',
    language: random() < 0.2 ? 'en' : LANGUAGE[country],
    isActive: random() < 0.95,
    address: {
      addressLine1: `${pick(random, STREETS[country])} ${1 + Math.floor(random() * 200)}`,
      addressLine2: random() < 0.15 ? `Bus ${1 + Math.floor(random() * 20)}` : null,
      postalCode,
      city,
      country,
    },
    extraFields,
    createdAt: iso(created),
    updatedAt: iso(updated),
  };
}
