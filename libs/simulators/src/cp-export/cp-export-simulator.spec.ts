import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CP_TABLES, CpColumn, CpExportSimulator, CpRow, CpTable } from './cp-export-simulator';

interface ExportAnswer {
  data: Partial<Record<CpTable, CpRow[]>>;
  has_more: Record<CpTable, boolean>;
}

const DATETIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether a value is what docs/cp-export-api.md declares for the column. */
function conforms(column: CpColumn, value: unknown): boolean {
  if (value === null) return column.nullable === true;
  if (column.values && !column.values.includes(value as string)) return false;
  switch (column.type) {
    case 'int':
      return Number.isInteger(value);
    case 'string':
      return typeof value === 'string';
    case 'decimal':
      return typeof value === 'string' && /^-?\d+\.\d{2}$/.test(value);
    case 'date':
      return typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
    case 'datetime':
      return typeof value === 'string' && DATETIME.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T')));
    case 'flag':
      return value === 0 || value === 1;
  }
}

function startedSim(options: ConstructorParameters<typeof CpExportSimulator>[0]) {
  const sim = new CpExportSimulator(options);
  const auth = () => ({ authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' });
  const post = (body: unknown, headers: Record<string, string> = auth()) =>
    fetch(sim.exportUrl, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const page = async (cursors: Partial<Record<CpTable, number>>, limit: number): Promise<ExportAnswer> => {
    const res = await post({ cursors, limit });
    assert.equal(res.status, 200);
    return (await res.json()) as ExportAnswer;
  };
  const control = (route: string, body?: unknown, method = 'POST') =>
    fetch(`${sim.exportUrl.replace('/api/export', '')}/__simulator/${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return { sim, auth, post, page, control };
}

const ids = (rows: CpRow[] | undefined, key: string) => (rows ?? []).map((r) => r[key]);

describe('CpExportSimulator: POST /api/export pages every table by id cursor', () => {
  const { sim, post, page } = startedSim({ seed: 7, rows: { client: 250, history: 120 } });
  before(() => sim.start());
  after(() => sim.stop());

  it('answers rows after each cursor, ascending, at most limit, with has_more exact at the boundary', async () => {
    const first = await page({ client: 0, history: 0 }, 100);
    assert.deepEqual(
      ids(first.data.client, 'client_id'),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.equal(first.has_more.client, true);
    const lastFull = await page({ client: 150 }, 100);
    assert.deepEqual(ids(lastFull.data.client, 'client_id'), [...Array.from({ length: 100 }, (_, i) => 151 + i)]);
    assert.equal(lastFull.has_more.client, false, 'exactly `limit` rows left: nothing more, not "the page was full"');
    const oneShort = await page({ client: 149 }, 100);
    assert.equal(oneShort.data.client!.length, 100);
    assert.equal(oneShort.has_more.client, true, 'row 250 is still to come');
    const tail = await page({ client: 249 }, 100);
    assert.deepEqual(ids(tail.data.client, 'client_id'), [250]);
    assert.equal(tail.has_more.client, false);
    assert.deepEqual(await page({ client: 99999 }, 5000).then((a) => [a.data.client, a.has_more.client]), [
      undefined,
      false,
    ]);
  });

  it('reads a table missing from cursors from 0, answers all seven has_more keys, and leaves out tables with nothing new', async () => {
    const answer = await page({ client: 250, history: 120 }, 10);
    assert.deepEqual(Object.keys(answer.has_more).sort(), CP_TABLES.map((t) => t.name).sort());
    assert.equal('client' in answer.data, false, 'nothing new: absent');
    assert.equal('history' in answer.data, false);
    assert.equal(answer.has_more.client, false);
    assert.deepEqual(ids(answer.data.partner, 'partner_id'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(answer.has_more.partner, true);
    const everything = await page({}, 10);
    assert.deepEqual(Object.keys(everything.data).sort(), CP_TABLES.map((t) => t.name).sort());
  });

  it("answers a table with nothing new as [] with emptyTables: 'empty'", async () => {
    const empty = startedSim({ rows: 2, emptyTables: 'empty' });
    await empty.sim.start();
    try {
      const answer = await empty.page({ client: 2 }, 10);
      assert.deepEqual(answer.data.client, []);
      assert.equal(answer.has_more.client, false);
      assert.equal(answer.data.partner?.length, 2);
    } finally {
      await empty.sim.stop();
    }
  });

  it('drains every table to exactly the simulator rows, cursor by cursor', async () => {
    const cursors = Object.fromEntries(CP_TABLES.map((t) => [t.name, 0])) as Record<CpTable, number>;
    const got = Object.fromEntries(CP_TABLES.map((t) => [t.name, [] as CpRow[]])) as Record<CpTable, CpRow[]>;
    let rounds = 0;
    for (let more = true; more; rounds++) {
      const answer = await page(cursors, 37);
      for (const { name, primaryKey } of CP_TABLES) {
        const rows = answer.data[name] ?? [];
        got[name].push(...rows);
        if (rows.length) cursors[name] = rows[rows.length - 1][primaryKey] as number;
      }
      more = Object.values(answer.has_more).some(Boolean);
    }
    assert.equal(rounds, Math.ceil(250 / 37));
    for (const { name } of CP_TABLES) assert.deepEqual(got[name], sim.rows(name), name);
    assert.equal(cursors.client, 250);
    assert.equal(cursors.partner, 200);
  });

  it('refuses a bad body with 400 {"error"} naming what is wrong', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{"cursors": {', /^body must be a JSON object$/],
      [[1, 2], /^body must be a JSON object$/],
      [{ limit: 10 }, /^cursors must be an object of table name to last id$/],
      [{ cursors: [0], limit: 10 }, /^cursors must be an object/],
      [{ cursors: { clients: 0 }, limit: 10 }, /^unknown table: clients$/],
      [{ cursors: { client: -1 }, limit: 10 }, /^cursor for client must be a non-negative integer$/],
      [{ cursors: { client: 1.5 }, limit: 10 }, /^cursor for client must be a non-negative integer$/],
      [{ cursors: { history: '12' }, limit: 10 }, /^cursor for history must be a non-negative integer$/],
      [{ cursors: {} }, /^limit must be an integer from 1 to 5000$/],
      [{ cursors: {}, limit: 0 }, /^limit must be an integer from 1 to 5000$/],
      [{ cursors: {}, limit: 5001 }, /^limit must be/],
      [{ cursors: {}, limit: 2.5 }, /^limit must be/],
      [{ cursors: {}, limit: '100' }, /^limit must be/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(((await res.json()) as { error: string }).error, message);
    }
    const notJson = await post('{"cursors":{},"limit":1}', {
      authorization: `Bearer ${sim.token}`,
      'content-type': 'text/plain',
    });
    assert.equal(notJson.status, 400, 'read as JSON only with a JSON content type');
    assert.equal((await post({ cursors: {}, limit: 5000 })).status, 200);
  });

  it('answers 404 for another path and 405 for another method, after the token', async () => {
    const base = sim.exportUrl.replace('/api/export', '');
    const headers = { authorization: `Bearer ${sim.token}` };
    const missing = await fetch(`${base}/api/exports`, { headers });
    assert.deepEqual([missing.status, await missing.json()], [404, { error: 'not found' }]);
    const get = await fetch(sim.exportUrl, { headers });
    assert.deepEqual([get.status, get.headers.get('allow')], [405, 'POST']);
    assert.equal((await fetch(sim.exportUrl)).status, 401, 'the token is checked before the method');
  });
});

describe('CpExportSimulator: Bearer token', () => {
  const { sim, post } = startedSim({ rows: 3 });
  before(() => sim.start());
  after(() => sim.stop());

  it('answers 401 {"error":"unauthorized"} without the exact `Bearer <token>` header, on the export and the visit', async () => {
    const body = { cursors: {}, limit: 1 };
    const refused: Array<Record<string, string>> = [
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', authorization: 'Bearer not-the-token' },
      { 'content-type': 'application/json', authorization: sim.token },
      { 'content-type': 'application/json', authorization: `Token ${sim.token}` },
      { 'content-type': 'application/json', authorization: `bearer ${sim.token}` },
      { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(sim.token).toString('base64')}` },
    ];
    for (const headers of refused) {
      const res = await post(body, headers);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.deepEqual(await res.json(), { error: 'unauthorized' });
    }
    const visit = await fetch(sim.visitUrl, { headers: { authorization: 'Bearer nope' } });
    assert.deepEqual([visit.status, await visit.json()], [401, { error: 'unauthorized' }]);
    assert.equal(sim.counters.unauthorized, refused.length + 1);
    assert.equal(sim.counters.exports, 0);
    assert.equal((await post(body)).status, 200);
  });

  it('takes its token from the options', async () => {
    const own = new CpExportSimulator({ token: 'club-secret', rows: 1 });
    await own.start();
    try {
      const res = await fetch(own.visitUrl, { headers: { authorization: 'Bearer club-secret' } });
      assert.equal(res.status, 200);
      assert.equal(own.token, 'club-secret');
    } finally {
      await own.stop();
    }
  });
});

describe('CpExportSimulator: GET /api/sync-visit', () => {
  let clock = Date.UTC(2025, 6, 1, 10, 0, 0);
  const { sim } = startedSim({ rows: 1, now: () => clock });
  before(() => sim.start());
  after(() => sim.stop());

  it('answers {"status":"ok","visited_at"} in UTC and counts the visits; POST is 405', async () => {
    const headers = { authorization: `Bearer ${sim.token}` };
    const first = await fetch(sim.visitUrl, { headers });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { status: 'ok', visited_at: '2025-07-01 10:00:00' });
    clock += 3_600_000;
    await fetch(sim.visitUrl, { headers });
    assert.equal(sim.counters.visits, 2);
    assert.equal(sim.lastVisitAt, '2025-07-01 11:00:00');
    const post = await fetch(sim.visitUrl, { method: 'POST', headers });
    assert.deepEqual([post.status, post.headers.get('allow')], [405, 'GET']);
    assert.equal(sim.counters.visits, 2);
  });
});

describe('CpExportSimulator: rows', () => {
  it('generates the same rows for the same seed and sizes, other rows for another seed', () => {
    const a = new CpExportSimulator({ seed: 11, rows: 60 });
    const b = new CpExportSimulator({ seed: 11, rows: 60 });
    const c = new CpExportSimulator({ seed: 12, rows: 60 });
    for (const { name } of CP_TABLES) {
      assert.deepEqual(a.rows(name), b.rows(name), name);
      assert.notDeepEqual(a.rows(name), c.rows(name), name);
    }
  });

  it('fills every declared column with its declared type, plus the undeclared extras, on 7 × 2000 rows', () => {
    const sim = new CpExportSimulator({ seed: 3, rows: 2000 });
    for (const spec of CP_TABLES) {
      const declared = new Set(spec.columns.map((c) => c.name));
      const rows = sim.rows(spec.name);
      assert.equal(rows.length, 2000);
      rows.forEach((row, i) => {
        assert.equal(row[spec.primaryKey], i + 1, `${spec.name} ids are consecutive from 1`);
        for (const column of spec.columns)
          assert.ok(
            conforms(column, row[column.name]),
            `${spec.name}.${column.name} = ${JSON.stringify(row[column.name])}`,
          );
        const extra = Object.keys(row).filter((k) => !declared.has(k));
        assert.deepEqual(extra, [...spec.extraColumns], `${spec.name} extras`);
      });
      for (const column of spec.columns.filter((c) => c.nullable))
        assert.ok(
          rows.some((r) => r[column.name] === null) && rows.some((r) => r[column.name] !== null),
          `${spec.name}.${column.name} is sometimes null, sometimes not`,
        );
      assert.ok(
        rows.every((r) => String(r.created_at) <= '2025-06-30 23:59:59' && String(r.created_at) >= '2021-01-01'),
      );
      if (spec.name !== 'history')
        assert.ok(
          rows.every((r) => String(r.updated_at) >= String(r.created_at)),
          `${spec.name} updated after created`,
        );
      else
        assert.ok(
          rows.every((r) => !('updated_at' in r)),
          'history has no updated_at',
        );
    }
  });

  it('makes plausible French data: foreign keys to existing rows, coherent statuses and dates', () => {
    const sim = new CpExportSimulator({ seed: 5, rows: 500 });
    const clients = sim.rows('client');
    assert.ok(new Set(clients.map((c) => c.ville)).size >= 10);
    assert.ok(
      clients.some((c) => /[éèô]/.test(`${String(c.prenom)}${String(c.nom)}`)),
      'accents',
    );
    for (const row of sim.rows('client_abonnement')) {
      assert.ok(Number(row.client_id) >= 1 && Number(row.client_id) <= 500);
      assert.ok(String(row.date_fin) > String(row.date_debut));
      if (row.statut === 'expire') assert.ok(String(row.date_fin) < '2025-06-30');
    }
    const orders = new Map(sim.rows('promotion_pass_orders').map((o) => [o.id, o]));
    for (const pass of sim.rows('promotion_pass_vendu')) {
      assert.equal(pass.promotion_id, orders.get(pass.order_id)!.promotion_id, 'a pass names its order’s promotion');
      assert.equal(pass.date_utilisation === null, pass.utilise === 0);
    }
    const types = new Set(sim.rows('history').map((h) => h.type));
    assert.deepEqual([...types].sort(), ['achat', 'parrainage', 'points', 'visite']);
  });

  it('leaves every gapEvery-th id out, in the rows, the counts and the pages', async () => {
    const { sim, page } = startedSim({ rows: 18, gapEvery: 10 });
    await sim.start();
    try {
      assert.deepEqual([sim.count('client'), sim.maxId('client')], [18, 19]);
      assert.equal(sim.row('client', 10), null);
      const first = await page({ client: 0 }, 9);
      assert.deepEqual(ids(first.data.client, 'client_id'), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.equal(first.has_more.client, true, 'the next row, 11, is past the gap');
      const rest = await page({ client: 9 }, 9);
      assert.deepEqual(ids(rest.data.client, 'client_id'), [11, 12, 13, 14, 15, 16, 17, 18, 19]);
      assert.equal(rest.has_more.client, false);
      const small = new CpExportSimulator({ rows: 9, gapEvery: 10 });
      assert.deepEqual(
        small.append('client', 1).map((r) => r.client_id),
        [11],
        'an appended id skips the gap too',
      );
    } finally {
      await sim.stop();
    }
    assert.throws(() => new CpExportSimulator({ gapEvery: 1 }), /gapEvery/);
  });
});

describe('CpExportSimulator: appends and updates', () => {
  let clock = Date.UTC(2025, 8, 15, 8, 30, 0);
  const { sim, page, control } = startedSim({ seed: 9, rows: 40, now: () => clock });
  before(() => sim.start());
  after(() => sim.stop());

  it('serves only the appended rows after the old maxima, dated now', async () => {
    const cursors = Object.fromEntries(CP_TABLES.map((t) => [t.name, sim.maxId(t.name)]));
    assert.deepEqual((await page(cursors, 100)).data, {});
    const added = sim.append('client', 3);
    sim.append('history', 2);
    assert.deepEqual(
      added.map((r) => r.client_id),
      [41, 42, 43],
    );
    const answer = await page(cursors, 100);
    assert.deepEqual(Object.keys(answer.data).sort(), ['client', 'history']);
    assert.deepEqual(answer.data.client, added);
    assert.deepEqual(ids(answer.data.history, 'history_id'), [41, 42]);
    assert.ok(answer.data.client.every((r) => r.created_at === '2025-09-15 08:30:00' && r.updated_at === r.created_at));
    assert.equal(answer.data.history![0].created_at, '2025-09-15 08:30:00');
    assert.equal(sim.count('client'), 43);
  });

  it('appends over HTTP, to one table or to all', async () => {
    const one = await control('append', { table: 'partner', count: 5 });
    assert.deepEqual(await one.json(), { appended: { partner: { count: 5, maxId: 45 } } });
    const all = (await (await control('append', { count: 2 })).json()) as { appended: Record<string, unknown> };
    assert.equal(Object.keys(all.appended).length, 7);
    assert.equal(sim.maxId('partner'), 47);
    assert.equal((await control('append', { table: 'partners', count: 1 })).status, 400);
  });

  it('updates an old row in place: same id, new values, updated_at now; an id cursor does not see it', async () => {
    clock += 60_000;
    const before = sim.row('client', 10)!;
    const changed = sim.update('client', 10, { ville: 'Bayonne', code_postal: '64100' });
    assert.equal(changed.client_id, 10);
    assert.equal(changed.created_at, before.created_at);
    assert.equal(changed.updated_at, '2025-09-15 08:31:00');
    assert.equal(changed.prenom, before.prenom);
    const reread = await page({ client: 9 }, 1);
    assert.deepEqual(reread.data.client, [changed]);
    const incremental = await page({ client: sim.maxId('client') }, 100);
    assert.equal('client' in incremental.data, false, 'the watermark never sees the update');
    assert.throws(() => sim.update('client', 10, { client_id: 99 }), /primary key/);
    assert.throws(() => sim.update('client', 999, {}), /No client row 999/);
  });

  it('updates without changes given with a plausible change of the table; history keeps no updated_at', () => {
    const before = sim.row('client_abonnement', 5)!;
    const after = sim.update('client_abonnement', 5);
    assert.notEqual(after.statut, before.statut);
    assert.equal(after.updated_at, '2025-09-15 08:31:00');
    const history = sim.update('history', 3);
    assert.match(String(history.description), /\(corrigé\)$/);
    assert.equal('updated_at' in history, false);
    assert.equal(
      sim.update('history', 4, { points: 0, updated_at: '2025-09-15 08:31:00' }).updated_at,
      '2025-09-15 08:31:00',
    );
  });

  it('updates rows spread over the ids, and over HTTP', async () => {
    const spread = sim.updateRandom('promotion', 8);
    assert.equal(new Set(spread).size, 8);
    assert.ok(spread[0] <= 10 && spread[7] >= 30, `spread: ${spread.join(',')}`);
    assert.ok(spread.every((id) => sim.row('promotion', id)!.updated_at === '2025-09-15 08:31:00'));
    const res = await control('update', { table: 'partner', id: 2, changes: { actif: 0 } });
    const { updated } = (await res.json()) as { updated: CpRow[] };
    assert.deepEqual([updated[0].partner_id, updated[0].actif], [2, 0]);
    const many = (await (await control('update', { table: 'client', count: 3 })).json()) as { updated: CpRow[] };
    assert.equal(many.updated.length, 3);
    assert.equal((await control('update', { table: 'client', id: 1, changes: { client_id: 5 } })).status, 400);
  });
});

describe('CpExportSimulator: malformed rows', () => {
  const { sim, page, control } = startedSim({ seed: 4, rows: 10 });
  before(() => sim.start());
  after(() => sim.stop());

  it('serves a row without its primary key, or with a word in a numeric column, at its place; repair restores it', async () => {
    const good = sim.row('client', 5)!;
    sim.corrupt('client', 5, 'missing_pk');
    sim.corrupt('promotion_pass_orders', 2, 'bad_type');
    const answer = await page({ client: 3, promotion_pass_orders: 1 }, 3);
    const clients = answer.data.client!;
    assert.deepEqual(
      clients.map((r) => r.client_id),
      [4, undefined, 6],
    );
    assert.equal('client_id' in clients[1], false);
    assert.equal(clients[1].email, good.email, 'the rest of the row is there');
    assert.equal(answer.data.promotion_pass_orders![0].quantite, 'deux');
    assert.equal(answer.data.promotion_pass_orders![0].id, 2);
    sim.repair('client', 5);
    assert.deepEqual((await page({ client: 4 }, 1)).data.client, [good]);
    assert.throws(() => sim.corrupt('client', 11, 'bad_type'), /No client row 11/);
  });

  it('corrupts and repairs over HTTP, and shows it in the state', async () => {
    const good = sim.row('partner', 3)!;
    assert.equal((await control('corrupt', { table: 'partner', id: 3, kind: 'bad_type' })).status, 200);
    assert.equal(sim.row('partner', 3)!.actif, 'oui');
    const state = (await (await control('state', undefined, 'GET')).json()) as {
      tables: Record<string, { corrupted: Record<string, string>; count: number }>;
    };
    assert.deepEqual(state.tables.partner.corrupted, { 3: 'bad_type' });
    assert.equal(state.tables.client.count, 10);
    await control('corrupt', { table: 'partner', id: 3, kind: null });
    assert.deepEqual(sim.row('partner', 3), good);
    assert.equal((await control('corrupt', { table: 'partner', id: 3, kind: 'wrong' })).status, 400);
  });
});

describe('CpExportSimulator: transport faults', () => {
  const { sim, post, control } = startedSim({ rows: 5 });
  const body = { cursors: {}, limit: 5 };
  before(() => sim.start());
  after(() => sim.stop());

  it('answers 500, 502 or 503 in the {"error"} shape when errorRate fires', async () => {
    for (const [status, message] of [
      [500, 'internal server error'],
      [502, 'bad gateway'],
      [503, 'service unavailable'],
    ] as const) {
      sim.setFaults({ errorRate: 1, errorStatus: status });
      const res = await post(body);
      assert.deepEqual([res.status, await res.json()], [status, { error: message }]);
    }
    assert.equal(sim.counters.faulted, 3);
    sim.resetFaults();
    assert.equal((await post(body)).status, 200);
    assert.throws(() => sim.setFaults({ errorStatus: 504 as 503 }), /errorStatus/);
  });

  it('holds the next request until the client times out, then serves again', async () => {
    sim.setFaults({ hangNext: 1 });
    await assert.rejects(
      fetch(sim.exportUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(150),
      }),
      (err: Error) => err.name === 'TimeoutError',
    );
    assert.equal(sim.counters.held, 1);
    assert.equal((await post(body)).status, 200, 'only the next one was held');
    sim.resetFaults();
    const state = (await (await control('state', undefined, 'GET')).json()) as { heldNow: number };
    assert.equal(state.heldNow, 0, 'resetFaults answers the held request');
  });

  it('holds for hangMs and then answers; latency waits; timeoutRate 1 holds every request; 429 with Retry-After', async () => {
    sim.setFaults({ timeoutRate: 1, hangMs: 120 });
    let started = Date.now();
    assert.equal((await post(body)).status, 200);
    assert.ok(Date.now() - started >= 110, 'held ~120 ms');
    sim.setFaults({ timeoutRate: 0, hangMs: 0, latencyMs: 60 });
    started = Date.now();
    assert.equal((await fetch(sim.visitUrl, { headers: { authorization: `Bearer ${sim.token}` } })).status, 200);
    assert.ok(Date.now() - started >= 55);
    sim.setFaults({ latencyMs: 0, rateLimitRate: 1, retryAfterSeconds: 7 });
    const limited = await post(body);
    assert.deepEqual([limited.status, limited.headers.get('retry-after')], [429, '7']);
    sim.resetFaults();
  });

  it('sets and resets faults over HTTP', async () => {
    const set = await control('faults', { errorRate: 1, errorStatus: 502 });
    assert.equal(((await set.json()) as { errorStatus: number }).errorStatus, 502);
    assert.equal((await post(body)).status, 502);
    assert.equal((await control('faults', { errorRate: 2 })).status, 400);
    await control('faults', undefined, 'DELETE');
    assert.equal((await post(body)).status, 200);
  });

  it('drops a request held forever when it stops', async () => {
    const own = new CpExportSimulator({ rows: 1 });
    await own.start();
    own.setFaults({ hangNext: 1 });
    const pending = fetch(own.visitUrl, { headers: { authorization: `Bearer ${own.token}` } });
    while (own.counters.held === 0) await new Promise((r) => setTimeout(r, 5));
    await own.stop();
    await assert.rejects(pending);
  });
});

describe('CpExportSimulator: size and speed', () => {
  it('serves a 7 × 1000 page of a 7 × 30,000-row simulator quickly, holding no rows', async () => {
    const { sim, page, control } = startedSim({ rows: 30_000 });
    await sim.start();
    try {
      const cursors = Object.fromEntries(CP_TABLES.map((t) => [t.name, 14_000]));
      await page(cursors, 1000);
      const started = performance.now();
      const answer = await page(cursors, 1000);
      const ms = performance.now() - started;
      assert.ok(CP_TABLES.every((t) => answer.data[t.name]!.length === 1000 && answer.has_more[t.name]));
      assert.ok(ms < 1500, `${Math.round(ms)} ms for 7 × 1000 rows`);
      assert.equal(sim.counters.rowsServed, 14_000);
      const state = (await (await control('state', undefined, 'GET')).json()) as {
        tables: Record<string, { changed: number; count: number }>;
      };
      assert.ok(
        Object.values(state.tables).every((t) => t.changed === 0 && t.count === 30_000),
        'rows are generated, not stored',
      );
    } finally {
      await sim.stop();
    }
  });
});

describe('docs/cp-export-api.md', () => {
  it('declares the same tables, primary keys, columns, types, nullability and values as the simulator', () => {
    let root = __dirname;
    while (!fs.existsSync(path.join(root, 'docs', 'cp-export-api.md'))) {
      const parent = path.dirname(root);
      assert.notEqual(parent, root, 'docs/cp-export-api.md not found above the test');
      root = parent;
    }
    const doc = fs.readFileSync(path.join(root, 'docs', 'cp-export-api.md'), 'utf8');
    const sections = [...doc.matchAll(/^### `(\w+)` \(primary key `(\w+)`\)\n([\s\S]*?)(?=\n### |\n## )/gm)];
    assert.deepEqual(
      sections.map((s) => [s[1], s[2]]),
      CP_TABLES.map((t) => [t.name, t.primaryKey]),
    );
    for (const [, name, , text] of sections) {
      const spec = CP_TABLES.find((t) => t.name === name)!;
      const documented = text
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .map((line) => {
          const [column, type, nullable, notes] = line
            .slice(1, -1)
            .split('|')
            .map((cell) => cell.trim());
          return {
            name: column.replace(/`/g, ''),
            type,
            nullable: nullable === 'yes',
            values: notes.startsWith('one of') ? [...notes.matchAll(/`(\w+)`/g)].map((v) => v[1]) : undefined,
          };
        });
      assert.deepEqual(
        documented,
        spec.columns.map((c) => ({
          name: c.name,
          type: c.type,
          nullable: c.nullable === true,
          values: c.values ? [...c.values] : undefined,
        })),
        name,
      );
      for (const extra of spec.extraColumns) assert.match(text, new RegExp(`adds .*\`${extra}\``), `${name}.${extra}`);
    }
  });
});
