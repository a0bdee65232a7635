import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { provisionTopics } from '@sync-hub/messaging';
import { RobawsSimulator } from '@sync-hub/simulators';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { AppProcess, startAppProcess } from '../support/app-process';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { CONSUMED_TOPICS, freshGroup, groupStartingNow } from '../support/kafka';
import { eventually } from '../support/wait';

const API_KEY = 'e2e-crm-customers-key-0123456789';
const CUSTOMERS = '/api/crm/customers';

/** A Belgian VAT number with right check digits: BE, 0 and seven digits, then 97 − (those eight digits mod 97). */
function belgianVat(seven: number): string {
  const eight = `0${String(seven).padStart(7, '0')}`;
  return `BE${eight}${String(97 - (Number(eight) % 97)).padStart(2, '0')}`;
}

interface Row {
  robaws_id: number;
  name: string | null;
  email: string | null;
  tel: string | null;
  phone: string | null;
  vat_number: string | null;
  role: string | null;
  city: string | null;
  local_dirty: string | null;
  content_hash: string;
  upstream_updated_at: Date | null;
}

/**
 * The Robaws customers API through the gateway, forwarded to crm-sync: both as processes, Kafka, MariaDB, and the
 * Robaws simulator over HTTP.
 */
describe('the Robaws customers API through the gateway (crm-sync, Kafka, MariaDB, Robaws simulator)', () => {
  let db: TestDatabase;
  let gateway: AppProcess;
  let crm: AppProcess;
  // Few clients and no bucket: the suite is about the API, not the rate limit.
  const sim = new RobawsSimulator({ seed: 11, clients: 240, rateLimit: { enabled: false } });
  /** Two clients sharing a VAT number and two sharing an email, made before the table is filled. */
  let vatTwins: number[];
  let emailTwins: number[];
  const sharedVat = belgianVat(4_444_444);
  const sharedEmail = 'accounts@twins.example';

  const call = async (method: string, path: string, body?: unknown, key: string | null = API_KEY) => {
    const res = await fetch(`${gateway.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, text };
  };
  const ok = async (path: string) => {
    const res = await call('GET', path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res.body;
  };
  const rows = (where = '1 = 1', params: unknown[] = []): Promise<Row[]> =>
    db.dataSource.query(`SELECT * FROM robaws_customers WHERE ${where} ORDER BY robaws_id`, params);
  const row = async (id: number) => (await rows('robaws_id = ?', [id]))[0];
  const runEnd = (runId: string) =>
    eventually(
      async () => {
        const r = await call('GET', `/api/runs/${runId}`);
        return r.status === 200 && ['completed', 'failed', 'skipped'].includes(r.body.status) ? r.body : undefined;
      },
      `run ${runId} to end in the run history`,
      120000,
      250,
    );
  /** Every page of a listing, following next_cursor. */
  const allPages = async (query: string) => {
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await ok(`${CUSTOMERS}?${query}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data);
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    return { customers: seen, pages };
  };
  /** A stored customer, clean, with a valid Belgian phone and VAT number, not one of the `taken`. */
  const taken = new Set<number>();
  const cleanBelgian = async (): Promise<Row> => {
    const found = (
      await rows(
        "phone LIKE '+32%' AND tel = phone AND vat_number LIKE 'BE%' AND vat_valid = 1 AND email IS NOT NULL AND local_dirty IS NULL",
      )
    ).find((r) => !taken.has(r.robaws_id));
    assert.ok(found, 'the simulator has Belgian clients with a valid phone and VAT number');
    taken.add(found.robaws_id);
    return found;
  };

  before(async () => {
    db = await createTestDatabase('crm_customers_api');
    const robawsUrl = await sim.start();
    const first = sim.clients()[0];
    vatTwins = [
      first.id,
      sim.createClient({ name: 'Twin by VAT', vatNumber: sharedVat, address: { ...first.address, country: 'BE' } }).id,
    ];
    sim.updateClient(first.id, { vatNumber: sharedVat.slice(2), address: { country: 'BE' } });
    emailTwins = [
      sim.createClient({ name: 'Twin by email one', email: sharedEmail }).id,
      sim.createClient({ name: 'Twin by email two', email: sharedEmail.toUpperCase() }).id,
    ];
    // On a fresh broker nothing has created the topics yet; a group starting now needs them.
    await provisionTopics({
      brokers: TEST_KAFKA_BROKERS.split(','),
      clientId: 'e2e-crm-customers',
      groupId: 'unused',
      topicPartitions: 3,
      replicationFactor: 1,
    });
    const common = { KAFKA_BROKERS: TEST_KAFKA_BROKERS, DATABASE_URL: db.url, GATEWAY_API_KEYS: API_KEY };
    crm = await startAppProcess(
      'crm-sync',
      {
        ...common,
        KAFKA_GROUP_ID: await eventually(
          () => groupStartingNow(`crm-customers-api-${randomBytes(4).toString('hex')}`, [Topic.CrmRequested]),
          'the new topic to have a leader',
          30000,
          500,
        ),
        ROBAWS_URL: robawsUrl,
        ROBAWS_API_KEY: sim.apiKey,
        ROBAWS_API_SECRET: sim.apiSecret,
        ROBAWS_DEFAULT_COUNTRY: 'BE',
        HTTP_RETRIES: '1',
        HTTP_RETRY_BASE_DELAY_MS: '20',
      },
      'crm-customers-api-crm-sync',
    );
    gateway = await startAppProcess(
      'gateway',
      {
        ...common,
        KAFKA_GROUP_ID: await freshGroup('gateway-crm-customers', CONSUMED_TOPICS.gateway),
        CRM_SYNC_URL: crm.url,
      },
      'crm-customers-api-gateway',
    );
    // The table filled one client at a time through the API (each a manual run in crm-sync), not with a tick of the
    // full pull on the shared broker: a tick stays there for an hour, and another suite's crm-sync reading the topic
    // from the start would run it too.
    for (const client of sim.clients()) {
      const synced = await call('POST', `${CUSTOMERS}/${client.id}/sync`);
      assert.equal(synced.status, 200, synced.text);
      assert.equal(synced.body.run_status, 'completed', synced.text);
    }
  });

  after(async () => {
    await Promise.all([gateway?.stop(), crm?.stop()]);
    await sim.stop();
    await db?.drop();
  });

  it('a sync of each client stored every simulator client', async () => {
    assert.equal((await rows()).length, sim.clientCount);
  });

  it('the routes need the key at the gateway', async () => {
    for (const [method, path] of [
      ['GET', CUSTOMERS],
      ['GET', `${CUSTOMERS}/duplicates`],
      ['GET', `${CUSTOMERS}/${vatTwins[0]}`],
      ['PATCH', `${CUSTOMERS}/${vatTwins[0]}`],
      ['POST', `${CUSTOMERS}/${vatTwins[0]}/sync`],
      ['POST', `${CUSTOMERS}/${vatTwins[0]}/push`],
      ['POST', `${CUSTOMERS}/${vatTwins[0]}/resolve`],
    ])
      assert.equal((await call(method, path, undefined, null)).status, 401, `${method} ${path}`);
  });

  it('OpenAPI at the gateway documents the routes, their query, bodies and answers', async () => {
    const doc = (await call('GET', '/docs-json', undefined, null)).body;
    const list = doc.paths['/api/crm/customers'].get;
    assert.deepEqual(list.tags, ['crm customers']);
    assert.deepEqual(
      list.parameters
        .filter((p: any) => p.in === 'query')
        .map((p: any) => p.name)
        .sort(),
      ['cursor', 'dirty', 'limit', 'q', 'role'],
    );
    const patch = doc.paths['/api/crm/customers/{id}'].patch;
    assert.deepEqual(Object.keys(patch.responses).sort(), ['200', '400', '404', '409']);
    assert.ok(doc.components.schemas.UpdateCustomerBody.properties.vat_number);
    for (const run of ['sync', 'push'])
      assert.deepEqual(Object.keys(doc.paths[`/api/crm/customers/{id}/${run}`].post.responses).sort(), [
        '200',
        '404',
        '409',
        '504',
      ]);
    assert.deepEqual(doc.components.schemas.ResolveCustomerConflictBody.properties.keep.enum, ['local', 'remote']);
    assert.match(doc.paths['/api/crm/customers/duplicates'].get.responses['200'].description, /vat_number \| email/);
  });

  it('lists every customer by name over pages, each once; the view is snake_case with the edit state', async () => {
    const { customers, pages } = await allPages('limit=50');
    assert.equal(customers.length, sim.clientCount);
    assert.ok(pages >= 5);
    assert.equal(new Set(customers.map((c) => c.robaws_id)).size, customers.length, 'no customer twice');
    const one = customers.find((c) => c.robaws_id === vatTwins[1]);
    assert.deepEqual(Object.keys(one).sort(), [
      'address_line1',
      'address_line2',
      'city',
      'conflict',
      'country',
      'currency',
      'deleted_upstream',
      'dirty',
      'email',
      'gsm',
      'is_active',
      'language',
      'local_edit',
      'name',
      'phone',
      'postal_code',
      'pushed_at',
      'robaws_id',
      'role',
      'synced_at',
      'tel',
      'upstream_updated_at',
      'vat_number',
      'vat_valid',
      'website',
    ]);
    assert.deepEqual([one.dirty, one.local_edit, one.conflict, one.deleted_upstream], [false, null, null, false]);
    assert.equal(one.vat_number, sharedVat);
  });

  it('filters by role exactly, over pages', async () => {
    const expected = (await rows("role = 'CUSTOMER'")).map((r) => r.robaws_id);
    assert.ok(expected.length > 10);
    const { customers, pages } = await allPages('role=CUSTOMER&limit=7');
    assert.ok(pages > 1);
    assert.deepEqual(
      customers.map((c) => c.robaws_id).sort((a, b) => a - b),
      expected,
    );
    assert.ok(customers.every((c) => c.role === 'CUSTOMER'));
    assert.deepEqual((await ok(`${CUSTOMERS}?role=customer%20service`)).data, []);
  });

  it('searches name and email (part of, any case), a phone as typed nationally, and the VAT number as typed', async () => {
    const target = await cleanBelgian();
    const national = parsePhoneNumberFromString(target.phone!)!.formatNational(); // "0470 12 34 56"
    assert.match(national, /^0/);
    const hits = async (q: string) =>
      (await allPages(`q=${encodeURIComponent(q)}&limit=500`)).customers.map((c) => c.robaws_id);
    assert.ok((await hits(national)).includes(target.robaws_id), `${national} finds ${target.phone}`);
    const vatTyped = `${target.vat_number!.slice(2, 6)}.${target.vat_number!.slice(6, 9)}.${target.vat_number!.slice(9)}`;
    assert.deepEqual(await hits(vatTyped), [target.robaws_id], `${vatTyped} finds ${target.vat_number}`);
    assert.ok((await hits(target.email!.toUpperCase())).includes(target.robaws_id));
    const namePart = target.name!.slice(1, Math.min(target.name!.length, 8));
    const byName = await hits(namePart.toLowerCase());
    assert.ok(byName.includes(target.robaws_id), `"${namePart}" finds ${target.name}`);
    assert.deepEqual(await hits('no such customer anywhere'), []);
    // A LIKE wildcard is taken literally.
    assert.deepEqual(await hits('%%%'), []);
  });

  it('400 naming each bad query field; a cursor it did not give out is one', async () => {
    const bad = await call('GET', `${CUSTOMERS}?dirty=maybe&limit=0&colour=red`);
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(Object.keys(bad.body.fields).sort(), ['colour', 'dirty', 'limit']);
    const cursor = await call('GET', `${CUSTOMERS}?cursor=${Buffer.from('[1,2,3]').toString('base64url')}`);
    assert.equal(cursor.status, 400);
    assert.deepEqual(Object.keys(cursor.body.fields), ['cursor']);
  });

  it('one customer; 404 for an unknown id or one that is not a number', async () => {
    const one = await ok(`${CUSTOMERS}/${emailTwins[0]}`);
    assert.deepEqual([one.robaws_id, one.name, one.email], [emailTwins[0], 'Twin by email one', sharedEmail]);
    assert.equal((await call('GET', `${CUSTOMERS}/99999999`)).status, 404);
    assert.equal((await call('GET', `${CUSTOMERS}/abc`)).status, 404);
    assert.equal((await call('PATCH', `${CUSTOMERS}/99999999`, { name: 'x' })).status, 404);
  });

  it('PATCH with bad fields: 400 naming each, nothing written', async () => {
    const target = await cleanBelgian();
    const before = await row(target.robaws_id);
    const bad = await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, {
      name: '  ',
      email: 'not-an-email',
      tel: '12',
      gsm: 'call me',
      vat_number: 'XX123',
      website: 42,
      postal_code: 'x'.repeat(40),
      colour: 'red',
      phone: '+32470123456',
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(Object.keys(bad.body.fields).sort(), [
      'colour',
      'email',
      'gsm',
      'name',
      'phone',
      'postal_code',
      'tel',
      'vat_number',
      'website',
    ]);
    assert.match(bad.body.fields.email[0], /not an email address/);
    assert.match(bad.body.fields.tel[0], /"12" is not a phone number/);
    assert.match(bad.body.fields.vat_number[0], /not a valid VAT number/);
    assert.match(bad.body.fields.colour[0], /not an editable field/);
    assert.ok(bad.body.message.includes('name: must not be empty'));
    assert.deepEqual(await row(target.robaws_id), before, 'nothing written');
    const empty = await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, {});
    assert.equal(empty.status, 400);
    assert.deepEqual(Object.keys(empty.body.fields), ['body']);
    assert.equal((await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, [1])).status, 400);
    assert.deepEqual(await row(target.robaws_id), before, 'nothing written');
  });

  it('PATCH normalises like the pull and marks the row dirty; edits merge; a field set back leaves the edit', async () => {
    const target = await cleanBelgian();
    const vat = belgianVat(1_234_567);
    const first = await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, {
      tel: '0470 12 34 56',
      email: '  New.Address@Example.COM ',
      vat_number: `${vat.slice(2, 6)}.${vat.slice(6, 9)}.${vat.slice(9)}`,
    });
    assert.equal(first.status, 200, first.text);
    const c = first.body;
    assert.deepEqual(
      [c.tel, c.phone, c.email, c.vat_number, c.vat_valid, c.dirty],
      ['+32470123456', '+32470123456', 'new.address@example.com', vat, true, true],
    );
    assert.deepEqual(c.local_edit.fields, {
      email: 'new.address@example.com',
      tel: '+32470123456',
      vat_number: vat,
    });
    assert.deepEqual(c.local_edit.base, { email: target.email, tel: target.tel, vat_number: target.vat_number });
    assert.equal(c.local_edit.base_updated_at, new Date(target.upstream_updated_at!).toISOString());
    const stored = await row(target.robaws_id);
    assert.equal(stored.tel, '+32470123456');
    assert.deepEqual(JSON.parse(stored.local_dirty!).fields, {
      email: 'new.address@example.com',
      tel: '+32470123456',
      vatNumber: vat,
    });
    assert.equal(stored.content_hash, target.content_hash, 'the upstream version it is based on is unchanged');

    // A second edit merges; the email set back to Robaws's value leaves the edit.
    const second = await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, {
      city: 'Gent',
      email: target.email,
      role: 'PARTNER',
    });
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(Object.keys(second.body.local_edit.fields).sort(), ['city', 'role', 'tel', 'vat_number']);
    assert.equal(second.body.email, target.email);
    assert.equal(second.body.local_edit.base.role, target.role);
    assert.equal(second.body.local_edit.base_updated_at, c.local_edit.base_updated_at);

    const dirty = (await allPages('dirty=true')).customers.map((x) => x.robaws_id);
    assert.deepEqual(dirty, [target.robaws_id]);
    const clean = await allPages('dirty=false&limit=500');
    assert.equal(clean.customers.length, sim.clientCount - 1);

    // Every edited field set back: no edit left, the row clean again.
    const back = await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, {
      city: target.city ?? null,
      role: target.role,
      tel: target.tel,
      vat_number: target.vat_number,
    });
    assert.equal(back.status, 200, back.text);
    assert.deepEqual([back.body.dirty, back.body.local_edit], [false, null]);
    assert.equal((await row(target.robaws_id)).local_dirty, null);
  });

  it('POST sync pulls that one customer now: the row matches the simulator after a change there', async () => {
    const target = await cleanBelgian();
    sim.updateClient(target.robaws_id, {
      name: 'Renamed in Robaws',
      tel: '09 123 45 67',
      address: { country: 'BE' },
      extraFields: { Role: { type: 'SELECT', group: null, stringValue: 'SUPPLIER' } },
    });
    const synced = await call('POST', `${CUSTOMERS}/${target.robaws_id}/sync`);
    assert.equal(synced.status, 200, synced.text);
    assert.equal(synced.body.run_status, 'completed');
    assert.equal(synced.body.reason, null);
    assert.match(synced.body.run_id, /^[0-9a-f-]{36}$/);
    const c = synced.body.customer;
    assert.deepEqual([c.name, c.tel, c.role], ['Renamed in Robaws', '+3291234567', 'SUPPLIER']);
    assert.equal(c.upstream_updated_at, new Date(sim.client(target.robaws_id)!.updatedAt).toISOString());
    const stored = await row(target.robaws_id);
    assert.deepEqual([stored.name, stored.tel, stored.role], ['Renamed in Robaws', '+3291234567', 'SUPPLIER']);
    // A manual run in the history, for this client alone.
    const run = await runEnd(synced.body.run_id);
    assert.deepEqual(
      [run.status, run.trigger, run.job, run.stats.fetched],
      ['completed', 'manual', 'robaws.customers.incremental', 1],
    );
  });

  it('POST sync of a client created in Robaws since the pull stores it; of an id Robaws does not know: 404', async () => {
    const created = sim.createClient({ name: 'Brand new client', email: 'new@brand.example' });
    const synced = await call('POST', `${CUSTOMERS}/${created.id}/sync`);
    assert.equal(synced.status, 200, synced.text);
    assert.equal(synced.body.customer.name, 'Brand new client');
    assert.equal((await row(created.id)).email, 'new@brand.example');
    const unknown = await call('POST', `${CUSTOMERS}/99999999/sync`);
    assert.equal(unknown.status, 404, unknown.text);
  });

  it('possible duplicates: customers sharing a normalised VAT number, and customers sharing an email', async () => {
    const { data } = await ok(`${CUSTOMERS}/duplicates`);
    const byVat = data.find((g: any) => g.kind === 'vat_number' && g.value === sharedVat);
    assert.ok(byVat, JSON.stringify(data.map((g: any) => [g.kind, g.value])));
    assert.deepEqual(
      byVat.customers.map((c: any) => c.robaws_id),
      vatTwins,
    );
    const byEmail = data.find((g: any) => g.kind === 'email' && g.value === sharedEmail);
    assert.ok(byEmail);
    assert.deepEqual(
      byEmail.customers.map((c: any) => c.robaws_id),
      emailTwins,
    );
    for (const g of data) assert.ok(g.customers.length >= 2, `${g.kind} ${g.value} is shared`);
    assert.equal((await call('GET', `${CUSTOMERS}/duplicates?limit=0`)).status, 400);
  });

  it("POST push sends that customer's edit now: Robaws has the change (only the edited fields), the row is clean", async () => {
    const target = await cleanBelgian();
    const edited = await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, {
      city: 'Brugge-Oost',
      tel: '0470 99 88 77',
    });
    assert.equal(edited.status, 200, edited.text);
    const patchesBefore = sim.patches.length;
    const pushed = await call('POST', `${CUSTOMERS}/${target.robaws_id}/push`);
    assert.equal(pushed.status, 200, pushed.text);
    assert.deepEqual([pushed.body.run_status, pushed.body.reason], ['completed', null]);
    const c = pushed.body.customer;
    assert.deepEqual([c.dirty, c.local_edit, c.conflict], [false, null, null]);
    assert.ok(c.pushed_at, 'pushed_at set');
    assert.deepEqual([c.city, c.tel], ['Brugge-Oost', '+32470998877']);
    const inRobaws = sim.client(target.robaws_id)!;
    assert.equal(inRobaws.address.city, 'Brugge-Oost');
    assert.equal(inRobaws.tel, '+32470998877');
    const sent = sim.patches.slice(patchesBefore);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].clientId, target.robaws_id);
    assert.match(sent[0].contentType, /^application\/merge-patch\+json/);
    assert.deepEqual(sent[0].body, { tel: '+32470998877', address: { city: 'Brugge-Oost' } });
    assert.equal((await row(target.robaws_id)).local_dirty, null);
    const run = await runEnd(pushed.body.run_id);
    assert.deepEqual([run.status, run.trigger, run.job], ['completed', 'manual', 'robaws.customers.push']);
  });

  it('a field Robaws changed since the edit is a conflict: PATCH is 409 until resolved; keep remote drops the edit', async () => {
    const target = await cleanBelgian();
    assert.equal((await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, { city: 'Local City' })).status, 200);
    sim.updateClient(target.robaws_id, { address: { city: 'Remote City' } });
    const pushed = await call('POST', `${CUSTOMERS}/${target.robaws_id}/push`);
    assert.equal(pushed.status, 200, pushed.text);
    const c = pushed.body.customer;
    assert.ok(c.conflict, JSON.stringify(c));
    assert.equal(c.conflict.local.city, 'Local City');
    assert.equal(c.conflict.remote.city, 'Remote City');
    assert.equal(sim.client(target.robaws_id)!.address.city, 'Remote City', 'Robaws is not overwritten');
    assert.ok((await allPages('dirty=true')).customers.some((x) => x.robaws_id === target.robaws_id));
    const blocked = await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, { city: 'Again' });
    assert.equal(blocked.status, 409, blocked.text);
    assert.match(blocked.body.message, /resolve it first/);

    const bad = await call('POST', `${CUSTOMERS}/${target.robaws_id}/resolve`, { keep: 'both' });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys(bad.body.fields), ['keep']);
    assert.equal((await call('POST', `${CUSTOMERS}/99999999/resolve`, { keep: 'remote' })).status, 404);

    const kept = await call('POST', `${CUSTOMERS}/${target.robaws_id}/resolve`, { keep: 'remote' });
    assert.equal(kept.status, 200, kept.text);
    assert.deepEqual(
      [kept.body.city, kept.body.dirty, kept.body.local_edit, kept.body.conflict],
      ['Remote City', false, null, null],
    );
    const again = await call('POST', `${CUSTOMERS}/${target.robaws_id}/resolve`, { keep: 'remote' });
    assert.equal(again.status, 409, 'no conflict left to resolve');
  });

  it("keep local: the edit stays, based on Robaws's version, and the next push sends it", async () => {
    const target = await cleanBelgian();
    assert.equal((await call('PATCH', `${CUSTOMERS}/${target.robaws_id}`, { city: 'Ours' })).status, 200);
    sim.updateClient(target.robaws_id, { address: { city: 'Theirs' } });
    const pushed = await call('POST', `${CUSTOMERS}/${target.robaws_id}/push`);
    assert.ok(pushed.body.customer.conflict, pushed.text);
    const kept = await call('POST', `${CUSTOMERS}/${target.robaws_id}/resolve`, { keep: 'local' });
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.body.conflict, null);
    assert.deepEqual(kept.body.local_edit.fields, { city: 'Ours' });
    assert.equal(kept.body.local_edit.base.city, 'Theirs');
    const second = await call('POST', `${CUSTOMERS}/${target.robaws_id}/push`);
    assert.equal(second.status, 200, second.text);
    assert.deepEqual([second.body.customer.dirty, second.body.customer.city], [false, 'Ours']);
    assert.equal(sim.client(target.robaws_id)!.address.city, 'Ours');
  });

  it('POST push of an unknown customer: 404, nothing run', async () => {
    assert.equal((await call('POST', `${CUSTOMERS}/99999999/push`)).status, 404);
  });

  it('409 while a Robaws customer job runs: the sync is not run, and is in the history as skipped', async () => {
    const target = await cleanBelgian();
    const slow = await cleanBelgian();
    sim.setFaults({ latencyMs: 1500 });
    try {
      // A sync of another customer, slowed down by Robaws, holds the Robaws customer jobs' lease meanwhile.
      const slowSync = call('POST', `${CUSTOMERS}/${slow.robaws_id}/sync`);
      await eventually(
        async () => {
          const held = await db.dataSource.query(
            'SELECT owner FROM job_leases WHERE name = ? AND expires_at > UTC_TIMESTAMP(3)',
            ['job:1:crm:robaws.customers'],
          );
          return held.length ? true : undefined;
        },
        'the slow sync to hold the Robaws customers lease',
        60000,
        50,
      );
      const busy = await call('POST', `${CUSTOMERS}/${target.robaws_id}/sync`);
      assert.equal(busy.status, 409, busy.text);
      assert.equal(busy.body.run_status, 'skipped');
      assert.equal(busy.body.reason, 'overlap');
      assert.match(busy.body.message, /a Robaws customer job \(pull or push\) is running/);
      assert.equal(busy.body.customer.robaws_id, target.robaws_id);
      const skipped = await runEnd(busy.body.run_id);
      assert.deepEqual([skipped.status, skipped.skip_reason], ['skipped', 'overlap']);
      const pushBusy = await call('POST', `${CUSTOMERS}/${target.robaws_id}/push`);
      assert.equal(pushBusy.status, 409, pushBusy.text);
      sim.clearFaults();
      const ran = await slowSync;
      assert.deepEqual([ran.status, ran.body.run_status], [200, 'completed']);
    } finally {
      sim.clearFaults();
    }
  });
});
