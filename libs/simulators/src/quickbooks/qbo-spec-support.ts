import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { QboErrorDetail } from './qbo-model';
import { QuickBooksSimulator, QuickBooksSimulatorOptions } from './quickbooks-simulator';

/** API answers, read loosely: the specs assert on Intuit's shapes field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** Test support for the QBO API specs. A client of one simulated realm over real HTTP: a connection made out of band, its access token, JSON calls. */
export async function client(sim: QuickBooksSimulator, realmId = sim.realmId) {
  const { refreshToken } = sim.connect(realmId);
  const res = await fetch(sim.urls.token, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
  const access = ((await res.json()) as { access_token: string }).access_token;
  const base = `${sim.urls.api}/${realmId}`;
  const headers = { authorization: `Bearer ${access}`, accept: 'application/json' };
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const r = await fetch(`${base}/${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: (text ? JSON.parse(text) : {}) as Json };
  };
  return {
    base,
    headers,
    call,
    create: (entity: string, body: unknown, query = '') =>
      call('POST', `${entity.toLowerCase()}?minorversion=75${query}`, body),
    read: (entity: string, id: string) => call('GET', `${entity.toLowerCase()}/${id}?minorversion=75`),
    update: (entity: string, body: unknown, query = '') =>
      call('POST', `${entity.toLowerCase()}?operation=update&minorversion=75${query}`, body),
    query: (sql: string) => call('GET', `query?query=${encodeURIComponent(sql)}&minorversion=75`),
  };
}

export type Client = Awaited<ReturnType<typeof client>>;

export function faultOf(res: { status: number; body: Json }): QboErrorDetail {
  const fault = res.body.Fault as { Error: QboErrorDetail[]; type: string } | undefined;
  assert.ok(fault, `expected a Fault, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(fault.type, 'ValidationFault');
  return fault.Error[0];
}

export const invoice = (customerId: string, amount = 150, extra: Json = {}) => ({
  CustomerRef: { value: customerId },
  Line: [{ Amount: amount, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: { value: '1' } } }],
  ...extra,
});
export const bill = (vendorId: string, amount = 200, accountId = '3') => ({
  VendorRef: { value: vendorId },
  Line: [
    {
      Amount: amount,
      DetailType: 'AccountBasedExpenseLineDetail',
      AccountBasedExpenseLineDetail: { AccountRef: { value: accountId } },
    },
  ],
});

export function simulator(options: QuickBooksSimulatorOptions = {}) {
  const sim = new QuickBooksSimulator({ seed: 5, ...options });
  before(async () => {
    await sim.start();
  });
  after(() => sim.stop());
  return sim;
}
