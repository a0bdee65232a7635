import { pick, seededRandom } from '../random';

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

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * Customer `id` as the Splynx API returns it: every scalar a string (the blueprint's PHP dump), dates as
 * `YYYY-MM-DD` and `YYYY-MM-DD HH:MM:SS`. The same seed and id always give the same record.
 */
export function generateCustomer(seed: number, id: number, revision = 0): SplynxCustomerRecord {
  const random = seededRandom(seed * 1_000_003 + id * 7919 + revision * 104729);
  const first = pick(random, FIRST);
  const last = pick(random, LAST);
  const login = `${first}.${last}.${id}`.toLowerCase();
  const added = new Date(Date.UTC(2019, 0, 1) + Math.floor(random() * 5 * 365) * 86400000);
  const updated = new Date(added.getTime() + Math.floor(random() * 400) * 86400000 + revision * 3600000);
  const category = random() < 0.8 ? 'person' : 'company';
  return {
    id: String(id),
    login,
    status: pick(random, STATUSES),
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
    date_add: `${added.getUTCFullYear()}-${pad(added.getUTCMonth() + 1)}-${pad(added.getUTCDate())}`,
    gps: '',
    billing_type: pick(random, BILLING),
    mrr_total: (random() * 100).toFixed(4),
    daily_prepaid_cost: '0.0000',
    last_online: '',
    last_update: updated.toISOString().slice(0, 19).replace('T', ' '),
    conversion_date: '0000-00-00',
    customer_labels: [],
    additional_attributes: { social_id: '' },
  };
}
