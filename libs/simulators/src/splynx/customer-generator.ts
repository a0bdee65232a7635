import { pick, seededRandom } from '../random';
import { splynxDate, splynxDateTime } from './splynx-dates';

const FIRST = [
  'Ana',
  'Besnik',
  'Clara',
  'Dritan',
  'Elira',
  'Fatjon',
  'Greta',
  'Hana',
  'Ilir',
  'Jonida',
  'Klodian',
  'Luan',
  'Mira',
  'Noel',
  'Orges',
  'Pranvera',
];
const LAST = [
  'Hoxha',
  'Kola',
  'Leka',
  'Marku',
  'Nika',
  'Prifti',
  'Shehu',
  'Tafa',
  'Vata',
  'Zeka',
  'Berisha',
  'Gashi',
  'Dervishi',
  'Mema',
];
const CITIES = ['Tirana', 'Durres', 'Vlore', 'Shkoder', 'Elbasan', 'Korce', 'Fier', 'Berat'];
const STATUSES = ['active', 'active', 'active', 'active', 'new', 'blocked', 'disabled'] as const;
const BILLING = ['recurring', 'recurring', 'prepaid', 'prepaid_monthly'] as const;

export type SplynxCustomerRecord = Record<string, unknown>;

const EPOCH_2019 = Date.UTC(2019, 0, 1) / 1000;
const DAY = 86400;

/** The PRNG of one customer revision: every field below is drawn from it in a fixed order. */
function customerRandom(seed: number, id: number, revision: number): () => number {
  return seededRandom(seed * 1_000_003 + id * 7919 + revision * 104729);
}

/** The first six draws of a record: the fields a list filter reads, cheap to compute without the rest. */
function drawHead(random: () => number, revision: number) {
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  const addedDays = Math.floor(random() * 5 * 365);
  const updatedDays = Math.floor(random() * 400);
  const category = random() < 0.8 ? 'person' : 'company';
  const status = pick(random, STATUSES);
  const dateAdd = EPOCH_2019 + addedDays * DAY;
  return { first, last, category, status, dateAdd, lastUpdate: dateAdd + updatedDays * DAY + revision * 3600 };
}

/** The day a customer was added: revision 0's, since editing a customer does not change it. */
function originalDateAdd(seed: number, id: number): number {
  return drawHead(customerRandom(seed, id, 0), 0).dateAdd;
}

/**
 * The filterable fields of a generated customer, as wall-clock seconds (`dateAdd`, `lastUpdate`) and text, without
 * building the record: a 1,000,000-customer simulator indexes them.
 */
export function generatedKeyFields(
  seed: number,
  id: number,
  revision = 0,
): { status: string; dateAdd: number; lastUpdate: number } {
  const { status, dateAdd, lastUpdate } = drawHead(customerRandom(seed, id, revision), revision);
  return { status, lastUpdate, dateAdd: revision === 0 ? dateAdd : originalDateAdd(seed, id) };
}

/**
 * Customer `id` as the Splynx API returns it: every scalar a string (the blueprint's PHP dump), dates as
 * `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS`. The same seed and id always give the same record. A later revision is
 * the customer edited: new content, but the date it was added stays revision 0's.
 */
export function generateCustomer(seed: number, id: number, revision = 0): SplynxCustomerRecord {
  const random = customerRandom(seed, id, revision);
  const { first, last, category, status, dateAdd, lastUpdate } = drawHead(random, revision);
  const login = `${first}.${last}.${id}`.toLowerCase();
  return {
    id: String(id),
    login,
    status,
    partner_id: String(1 + Math.floor(random() * 3)),
    location_id: String(1 + Math.floor(random() * 5)),
    parent_id: '0',
    added_by: 'api',
    added_by_id: '0',
    name: category === 'company' ? `${last} ${pick(random, ['Sh.p.k', 'LLC', 'Group'])}` : `${first} ${last}`,
    email: `${login}@example.net`,
    billing_email: `${login}.billing@example.net`,
    phone: `+3556${Math.floor(random() * 1e8)
      .toString()
      .padStart(8, '0')}`,
    category,
    street_1: `Rruga ${pick(random, LAST)} ${1 + Math.floor(random() * 200)}`,
    zip_code: String(1000 + Math.floor(random() * 9000)),
    city: pick(random, CITIES),
    subdivision_id: '0',
    date_add: splynxDate(revision === 0 ? dateAdd : originalDateAdd(seed, id)),
    gps: '',
    billing_type: pick(random, BILLING),
    mrr_total: (random() * 100).toFixed(4),
    daily_prepaid_cost: '0.0000',
    last_online: '',
    last_update: splynxDateTime(lastUpdate),
    conversion_date: '0000-00-00',
    customer_labels: [],
    additional_attributes: { social_id: '' },
  };
}
