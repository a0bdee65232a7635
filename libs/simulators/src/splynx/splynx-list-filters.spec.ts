import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SplynxCustomerRecord } from './customer-generator';
import { SplynxSimulator } from './splynx-simulator';

type Params = Array<[string, string]>;

/** `main_attributes[f][0]=op&main_attributes[f][1]=a(&[2]=b)`, as PHP's http_build_query writes ['op', a, b]. */
const where = (field: string, op: string, ...values: string[]): Params => [
  [`main_attributes[${field}][0]`, op],
  ...values.map((v, i): [string, string] => [`main_attributes[${field}][${i + 1}]`, v]),
];
/** `main_attributes[f]=v`, which means `=`. */
const equals = (field: string, value: string): Params => [[`main_attributes[${field}]`, value]];
/** `['IN', [a, b]]`: `main_attributes[f][0]=IN&main_attributes[f][1][0]=a&main_attributes[f][1][1]=b`. */
const among = (field: string, values: string[]): Params => [
  [`main_attributes[${field}][0]`, 'IN'],
  ...values.map((v, i): [string, string] => [`main_attributes[${field}][1][${i}]`, v]),
];

/** The client's incremental page query, parameter for parameter. */
const incremental = (since: string, afterId: number, limit: number): Params => [
  ['main_attributes[last_update][0]', '>='],
  ['main_attributes[last_update][1]', since],
  ['main_attributes[id][0]', '>'],
  ['main_attributes[id][1]', String(afterId)],
  ['order[id]', 'ASC'],
  ['limit', String(limit)],
  ['offset', '0'],
];

function client(sim: SplynxSimulator, url: () => string) {
  const authorization = `Basic ${Buffer.from(`${sim.apiKey}:${sim.apiSecret}`).toString('base64')}`;
  const call = (params: Params, method = 'GET') =>
    fetch(`${url()}/api/2.0/admin/customers/customer?${new URLSearchParams(params)}`, {
      method,
      headers: { authorization },
    });
  return {
    call,
    async records(params: Params): Promise<SplynxCustomerRecord[]> {
      const res = await call(params);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as SplynxCustomerRecord[];
    },
    async ids(params: Params): Promise<number[]> {
      return (await this.records(params)).map((r) => Number(r.id));
    },
    async count(params: Params): Promise<number> {
      const res = await call(params, 'HEAD');
      assert.equal(res.status, 204);
      return Number(res.headers.get('x-total-count'));
    },
    /** Every page of the incremental query, keyset by id as the client pages. */
    async changedSince(since: string, pageSize: number): Promise<number[]> {
      const seen: number[] = [];
      for (;;) {
        const page = await this.ids(incremental(since, seen.at(-1) ?? 0, pageSize));
        seen.push(...page);
        if (page.length < pageSize) return seen;
      }
    },
  };
}

describe('SplynxSimulator main_attributes filters', () => {
  const sim = new SplynxSimulator({ customers: 60, seed: 9 });
  let url = '';
  const api = client(sim, () => url);
  const all = () => sim.customerIds().map((id) => sim.customer(id)!);
  /** The oracle: the same filter written over the records' own strings. */
  const expected = (keep: (c: SplynxCustomerRecord) => boolean) =>
    all()
      .filter(keep)
      .map((c) => Number(c.id));
  const text = (c: SplynxCustomerRecord, field: string) => String(c[field]);

  before(async () => {
    url = await sim.start();
  });
  after(() => sim.stop());

  /** GET answers exactly the oracle's ids and HEAD its count; the oracle selects some but not all. */
  async function check(params: Params, keep: (c: SplynxCustomerRecord) => boolean) {
    const want = expected(keep);
    assert.ok(want.length > 0 && want.length < sim.customerCount, `a filter that can fail: ${want.length}`);
    assert.deepEqual(await api.ids(params), want, JSON.stringify(params));
    assert.equal(await api.count(params), want.length, `HEAD ${JSON.stringify(params)}`);
  }

  it('filters id with every operator, the scalar form meaning =', async () => {
    await check(equals('id', '7'), (c) => c.id === '7');
    await check(where('id', '=', '7'), (c) => c.id === '7');
    await check(where('id', '!=', '7'), (c) => c.id !== '7');
    await check(where('id', '<>', '7'), (c) => c.id !== '7');
    await check(where('id', '>', '55'), (c) => Number(c.id) > 55);
    await check(where('id', '>=', '55'), (c) => Number(c.id) >= 55);
    await check(where('id', '<', '3'), (c) => Number(c.id) < 3);
    await check(where('id', '<=', '3'), (c) => Number(c.id) <= 3);
    await check(where('id', 'BETWEEN', '10', '12'), (c) => Number(c.id) >= 10 && Number(c.id) <= 12);
    await check(among('id', ['4', '9', '70']), (c) => ['4', '9'].includes(text(c, 'id')));
    await check(where('id', 'like', '1_'), (c) => /^1\d$/.test(text(c, 'id')));
    assert.deepEqual(await api.ids(where('id', 'BETWEEN', '12', '10')), [], 'an empty BETWEEN selects nothing');
  });

  it('filters last_update and date_add as their fixed-format strings compare', async () => {
    const updates = all()
      .map((c) => text(c, 'last_update'))
      .sort();
    const [low, mid, high] = [updates[10], updates[30], updates[50]];
    const lu = (c: SplynxCustomerRecord) => text(c, 'last_update');
    await check(equals('last_update', mid), (c) => lu(c) === mid);
    await check(where('last_update', '=', mid), (c) => lu(c) === mid);
    await check(where('last_update', '!=', mid), (c) => lu(c) !== mid);
    await check(where('last_update', '<>', mid), (c) => lu(c) !== mid);
    await check(where('last_update', '>', mid), (c) => lu(c) > mid);
    await check(where('last_update', '>=', mid), (c) => lu(c) >= mid);
    await check(where('last_update', '<', mid), (c) => lu(c) < mid);
    await check(where('last_update', '<=', mid), (c) => lu(c) <= mid);
    await check(where('last_update', 'BETWEEN', low, high), (c) => lu(c) >= low && lu(c) <= high);
    await check(among('last_update', [low, high]), (c) => [low, high].includes(lu(c)));
    await check(where('last_update', 'LIKE', `${mid.slice(0, 4)}-%`), (c) => lu(c).startsWith(mid.slice(0, 5)));
    // A date alone is its midnight, as MySQL compares a DATETIME with a DATE.
    const day = mid.slice(0, 10);
    await check(where('last_update', '>=', day), (c) => lu(c) >= `${day} 00:00:00`);

    const added = all()
      .map((c) => text(c, 'date_add'))
      .sort();
    const da = (c: SplynxCustomerRecord) => text(c, 'date_add');
    await check(where('date_add', '>=', added[30]), (c) => da(c) >= added[30]);
    await check(where('date_add', '<', added[30]), (c) => da(c) < added[30]);
    await check(where('date_add', 'BETWEEN', added[5], added[25]), (c) => da(c) >= added[5] && da(c) <= added[25]);
    await check(equals('date_add', added[30]), (c) => da(c) === added[30]);
    await check(among('date_add', [added[1], added[40]]), (c) => [added[1], added[40]].includes(da(c)));
  });

  it('filters status and the other scalar fields', async () => {
    await check(equals('status', 'blocked'), (c) => c.status === 'blocked');
    await check(where('status', '!=', 'active'), (c) => c.status !== 'active');
    await check(among('status', ['new', 'disabled']), (c) => ['new', 'disabled'].includes(text(c, 'status')));
    await check(where('status', 'LIKE', 'ACT%'), (c) => c.status === 'active');
    await check(where('partner_id', '>', '1'), (c) => Number(c.partner_id) > 1);
    await check(where('login', 'LIKE', '%.hoxha.%'), (c) => text(c, 'login').includes('.hoxha.'));
  });

  it('ANDs filters, and keeps order[id], limit and offset working with them', async () => {
    const since = all()
      .map((c) => text(c, 'last_update'))
      .sort()[20];
    const params: Params = [
      ...equals('status', 'active'),
      ...where('id', '>', '10'),
      ...where('last_update', '>=', since),
    ];
    const keep = (c: SplynxCustomerRecord) =>
      c.status === 'active' && Number(c.id) > 10 && text(c, 'last_update') >= since;
    await check(params, keep);
    const want = expected(keep);
    assert.ok(want.length >= 6, `enough matches to page: ${want.length}`);
    assert.deepEqual(await api.ids([...params, ['limit', '3'], ['offset', '2']]), want.slice(2, 5));
    assert.deepEqual(
      await api.ids([...params, ['order[id]', 'DESC'], ['limit', '3'], ['offset', '1']]),
      [...want].reverse().slice(1, 4),
    );
    assert.equal(await api.count([...params, ['limit', '1'], ['offset', '4']]), want.length, 'HEAD ignores paging');
  });

  it('answers 400 BAD_REQUEST in the Splynx envelope to a filter it cannot answer exactly', async () => {
    const bad: Params[] = [
      where('last_update', '=>', '2024-01-01 00:00:00'),
      where('id', 'REGEXP', '^1'),
      where('last_update', '>=', '2024-13-01 00:00:00'),
      where('last_update', '>=', '2024-01-01T00:00:00'),
      where('last_update', '>=', 'yesterday'),
      where('date_add', '<', '2024-02-30'),
      where('id', '>', 'abc'),
      where('id', '>'),
      where('id', 'BETWEEN', '1'),
      [['main_attributes[id][0]', 'IN']],
      [['main_attributes[id][1]', '5']],
      [...equals('id', '5'), ...where('id', '>', '1')],
      [
        ['main_attributes[id][0]', '>'],
        ['main_attributes[id][1]', '1'],
        ['main_attributes[id][3]', '2'],
      ],
      [['main_attributes[id', '5']],
      equals('nickname', 'x'),
      equals('customer_labels', 'x'),
      [['additional_attributes[social_id]', 'x']],
      [['order[name]', 'ASC']],
      [['order[id]', 'UP']],
    ];
    for (const params of bad) {
      const res = await api.call(params);
      assert.equal(res.status, 400, JSON.stringify(params));
      const body = (await res.json()) as { error: { message: string; code: number; internal_code: string } };
      assert.equal(body.error.code, 400);
      assert.equal(body.error.internal_code, 'BAD_REQUEST');
      assert.ok(body.error.message.length > 0);
      assert.equal((await api.call(params, 'HEAD')).status, 400, `HEAD ${JSON.stringify(params)}`);
    }
    const regexp = await api.call(where('id', 'regexp', '^1'));
    assert.equal(
      ((await regexp.json()) as { error: { message: string } }).error.message,
      'Operator REGEXP in main_attributes[id] is not supported by the simulator',
    );
    const unknown = await api.call(where('last_update', '=>', '2024-01-01 00:00:00'));
    assert.deepEqual(await unknown.json(), {
      error: {
        message: 'Unknown operator "=>" in main_attributes[last_update]',
        code: 400,
        internal_code: 'BAD_REQUEST',
      },
    });
  });
});

describe('SplynxSimulator moves last_update when it changes a customer', () => {
  // March 2026, before daylight saving: Tirane is UTC+1.
  let clock = Date.UTC(2026, 2, 1, 9, 0, 0);
  const sim = new SplynxSimulator({ customers: 1000, seed: 21, timeZone: 'Europe/Tirane', now: () => clock });
  let url = '';
  const api = client(sim, () => url);
  // Generated last_update values lie in 2019..early 2025.
  const WATERMARK = '2025-06-01 00:00:00';

  before(async () => {
    url = await sim.start();
  });
  after(() => sim.stop());

  it('pages the incremental query to exactly the changed and added customers, stamped now in local time', async () => {
    assert.deepEqual(await api.changedSince(WATERMARK, 10), [], 'nothing changed yet');
    const untouched = sim.customer(501);
    const { changed, added, lastUpdate } = sim.mutate({ change: 37, add: 3 });
    assert.equal(lastUpdate, '2026-03-01 10:00:00');
    const want = [...changed, ...added].sort((a, b) => a - b);
    assert.ok(!changed.includes(501));
    assert.deepEqual(await api.changedSince(WATERMARK, 10), want);
    assert.equal(await api.count(incremental(WATERMARK, 0, 10)), want.length);
    for (const id of want) assert.equal(sim.lastUpdateOf(id), '2026-03-01 10:00:00');
    const records = await api.records(incremental(WATERMARK, 0, 100));
    assert.ok(records.every((r) => r.last_update === '2026-03-01 10:00:00'));
    assert.deepEqual(sim.customer(501), untouched, 'an unchanged customer renders exactly as before');
    assert.ok(sim.lastUpdateOf(501)! < WATERMARK);

    clock += 3600_000;
    const second = sim.mutate({ change: 5 });
    assert.deepEqual(await api.changedSince('2026-03-01 10:30:00', 2), second.changed);
    assert.deepEqual(
      await api.changedSince(WATERMARK, 1000),
      [...new Set([...want, ...second.changed])].sort((a, b) => a - b),
    );
  });

  it("changes a changed customer's content and last_update, but not its date_add", async () => {
    const summer = new SplynxSimulator({
      customers: 100,
      seed: 21,
      timeZone: 'Europe/Tirane',
      now: () => Date.UTC(2026, 6, 15, 10, 0, 0), // summer: UTC+2
    });
    const before = new Map(summer.customerIds().map((id) => [id, summer.customer(id)!]));
    const { changed } = summer.mutate({ change: 3 });
    assert.equal(changed.length, 3);
    for (const id of changed) {
      const was = before.get(id)!;
      const now = summer.customer(id)!;
      assert.equal(now.last_update, '2026-07-15 12:00:00');
      assert.notDeepEqual({ ...now, last_update: '' }, { ...was, last_update: '' }, 'new content');
      assert.equal(now.date_add, was.date_add, 'the day it was added stays');
    }
    for (const id of summer.customerIds().filter((x) => !changed.includes(x)))
      assert.deepEqual(summer.customer(id), before.get(id));
  });

  it('stamps a customer created over the API with now, and date_add with the local date', async () => {
    clock = Date.UTC(2026, 11, 31, 23, 30, 0); // already the new year in Tirane
    const res = await fetch(`${url}/api/2.0/admin/customers/customer`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${sim.apiKey}:${sim.apiSecret}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ name: 'Ana Hoxha', partner_id: 1, location_id: 1 }),
    });
    assert.equal(res.status, 201);
    const { id } = (await res.json()) as { id: number };
    assert.equal(sim.lastUpdateOf(id), '2027-01-01 00:30:00');
    assert.equal(sim.customer(id)!.date_add, '2027-01-01');
    assert.deepEqual(await api.ids(where('last_update', '>=', '2027-01-01 00:30:00')), [id]);
    assert.deepEqual(await api.ids(equals('date_add', '2027-01-01')), [id]);
  });

  it('exposes the time zone, its wall clock and a last_update on the control API', async () => {
    clock = Date.UTC(2027, 6, 1, 6, 15, 0);
    const state = (await (await fetch(`${url}/__simulator/state`)).json()) as { timeZone: string; now: string };
    assert.equal(state.timeZone, 'Europe/Tirane');
    assert.equal(state.now, '2027-07-01 08:15:00');
    const mutated = (await (
      await fetch(`${url}/__simulator/mutate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ change: 1 }),
      })
    ).json()) as { changed: number[]; lastUpdate: string };
    assert.equal(mutated.lastUpdate, '2027-07-01 08:15:00');
    const one = await fetch(`${url}/__simulator/last-update/${mutated.changed[0]}`);
    assert.deepEqual(await one.json(), { id: mutated.changed[0], last_update: '2027-07-01 08:15:00' });
    const missing = await fetch(`${url}/__simulator/last-update/999999`);
    assert.equal(missing.status, 404);
    assert.equal(sim.lastUpdateOf(999999), null);
  });

  it('refuses an unknown time zone when built', () => {
    assert.throws(() => new SplynxSimulator({ timeZone: 'Europe/Atlantis' }), RangeError);
    assert.equal(
      new SplynxSimulator({ customers: 1, now: () => Date.UTC(2026, 0, 1, 12) }).mutate({ add: 1 }).lastUpdate,
      '2026-01-01 12:00:00',
      'UTC by default',
    );
  });
});

describe('SplynxSimulator with 1,000,000 customers', () => {
  const sim = new SplynxSimulator({ customers: 1_000_000, seed: 5, now: () => Date.UTC(2026, 2, 1, 12) });
  let url = '';
  const api = client(sim, () => url);

  before(async () => {
    url = await sim.start();
  });
  after(() => sim.stop());

  it('answers the incremental query with exactly the changed customers, and the keyset query to the end', async () => {
    const { changed, added } = sim.mutate({ change: 1000, add: 2 });
    const want = [...changed, ...added];
    assert.equal(want.length, 1002);
    assert.deepEqual(await api.changedSince('2025-06-01 00:00:00', 400), want);
    assert.equal(await api.count(incremental('2025-06-01 00:00:00', 0, 400)), 1002);
    const tail = await api.ids([...where('id', '>', '999995'), ['order[id]', 'ASC'], ['limit', '10'], ['offset', '0']]);
    assert.deepEqual(tail, [999996, 999997, 999998, 999999, 1000000, 1000001, 1000002]);
    assert.equal(await api.count([]), 1_000_002);
  });
});
