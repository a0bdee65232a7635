import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { QuickBooksSimulator } from './quickbooks-simulator';

interface TokenAnswer {
  token_type: string;
  access_token: string;
  expires_in: number;
  refresh_token: string;
  x_refresh_token_expires_in: number;
  x_refresh_token_hard_expires_in?: number;
}

describe('QuickBooksSimulator speaks Intuit OAuth2 and the v3 API over HTTP', () => {
  const sim = new QuickBooksSimulator({ seed: 3 });
  const basic = `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`;

  const authorize = async (params: Record<string, string> = {}) => {
    const query = new URLSearchParams({
      client_id: sim.clientId,
      response_type: 'code',
      scope: 'com.intuit.quickbooks.accounting',
      redirect_uri: sim.redirectUri,
      state: 'st-123',
      ...params,
    });
    return fetch(`${sim.urls.authorize}?${query}`, { redirect: 'manual' });
  };
  const codeFromAuthorize = async () => {
    const res = await authorize();
    return new URL(res.headers.get('location')!).searchParams.get('code')!;
  };
  const token = (form: Record<string, string>, auth = basic, headers: Record<string, string> = {}) =>
    fetch(sim.urls.token, {
      method: 'POST',
      headers: {
        authorization: auth,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...headers,
      },
      body: new URLSearchParams(form).toString(),
    });
  const exchange = async (code: string) =>
    token({ grant_type: 'authorization_code', code, redirect_uri: sim.redirectUri });
  const connect = async () => (await (await exchange(await codeFromAuthorize())).json()) as TokenAnswer;
  const refresh = (refreshToken: string) => token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  const companyInfo = (access: string) =>
    fetch(`${sim.urls.api}/${sim.realmId}/companyinfo/${sim.realmId}?minorversion=75`, {
      headers: { authorization: `Bearer ${access}`, accept: 'application/json' },
    });

  before(async () => {
    await sim.start();
  });
  after(() => sim.stop());

  it('authorize approves at once and redirects with code, realmId and the same state', async () => {
    const res = await authorize();
    assert.equal(res.status, 302);
    assert.ok(res.headers.get('intuit_tid'));
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, sim.redirectUri);
    assert.equal(location.searchParams.get('state'), 'st-123');
    assert.equal(location.searchParams.get('realmId'), sim.realmId);
    assert.match(location.searchParams.get('code') ?? '', /^AB\w+/);
  });

  it('authorize shows an error page for a wrong client id or redirect URI, and redirects an error for a bad scope', async () => {
    const wrongClient = await authorize({ client_id: 'nope' });
    assert.equal(wrongClient.status, 400);
    assert.match(wrongClient.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await wrongClient.text(), /client_id/);
    const wrongRedirect = await authorize({ redirect_uri: 'https://evil.example/cb' });
    assert.equal(wrongRedirect.status, 400);
    assert.equal(wrongRedirect.headers.get('location'), null);
    const badScope = await authorize({ scope: 'openid' });
    assert.equal(badScope.status, 302);
    const location = new URL(badScope.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_scope');
    assert.equal(location.searchParams.get('code'), null);
  });

  it('exchanges a code once for Intuit-shaped tokens; the code reused or expired is invalid_grant', async () => {
    const code = await codeFromAuthorize();
    const res = await exchange(code);
    assert.equal(res.status, 200);
    const body = (await res.json()) as TokenAnswer;
    assert.equal(body.token_type, 'bearer');
    assert.equal(body.expires_in, 3600);
    assert.equal(body.x_refresh_token_expires_in, 8726400);
    assert.ok(body.access_token && body.refresh_token);
    const again = await exchange(code);
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), { error: 'invalid_grant' });
    assert.ok(again.headers.get('intuit_tid'));

    const late = await codeFromAuthorize();
    sim.advance(301);
    assert.deepEqual(await (await exchange(late)).json(), { error: 'invalid_grant' });
  });

  it('refuses bad client auth with 401 invalid_client, and a non-form body with invalid_request', async () => {
    const code = await codeFromAuthorize();
    const wrong = `Basic ${Buffer.from(`${sim.clientId}:wrong`).toString('base64')}`;
    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: sim.redirectUri }, wrong);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'invalid_client' });
    const none = await token({ grant_type: 'authorization_code', code, redirect_uri: sim.redirectUri }, '');
    assert.equal(none.status, 401);
    const json = await fetch(sim.urls.token, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'authorization_code', code }),
    });
    assert.equal(json.status, 400);
    assert.deepEqual(await json.json(), { error: 'invalid_request' });
    // The code was not spent by the refused calls.
    assert.equal((await exchange(code)).status, 200);
  });

  it('rotates the refresh token on every refresh; the previous one works for 24 h, then invalid_grant', async () => {
    const first = await connect();
    const res = await refresh(first.refresh_token);
    assert.equal(res.status, 200);
    const second = (await res.json()) as TokenAnswer;
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.notEqual(second.access_token, first.access_token);

    sim.advance(23 * 3600);
    const withinGrace = await refresh(first.refresh_token);
    assert.equal(withinGrace.status, 200);
    const third = (await withinGrace.json()) as TokenAnswer;

    sim.advance(2 * 3600);
    const stale = await refresh(first.refresh_token);
    assert.equal(stale.status, 400);
    assert.deepEqual(await stale.json(), { error: 'invalid_grant' });
    assert.equal((await refresh(third.refresh_token)).status, 200);
    assert.deepEqual(await (await refresh('AB11unknown')).json(), { error: 'invalid_grant' });
  });

  it('sends the 5-year hard expiry only when asked with x-include-refresh-token-hard-expires-in', async () => {
    const plain = await connect();
    assert.equal(plain.x_refresh_token_hard_expires_in, undefined);
    const res = await token({ grant_type: 'refresh_token', refresh_token: plain.refresh_token }, basic, {
      'x-include-refresh-token-hard-expires-in': 'true',
    });
    const body = (await res.json()) as TokenAnswer;
    assert.ok(Math.abs(body.x_refresh_token_hard_expires_in! - 5 * 365 * 86400) <= 2);
  });

  it('revoke ends the refresh token and its access tokens', async () => {
    const tokens = await connect();
    assert.equal((await companyInfo(tokens.access_token)).status, 200);
    const res = await fetch(sim.urls.revoke, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: tokens.refresh_token }),
    });
    assert.equal(res.status, 200);
    assert.equal((await companyInfo(tokens.access_token)).status, 401);
    assert.deepEqual(await (await refresh(tokens.refresh_token)).json(), { error: 'invalid_grant' });
    const badClient = await fetch(sim.urls.revoke, {
      method: 'POST',
      headers: { authorization: 'Basic eDp5', 'content-type': 'application/json' },
      body: JSON.stringify({ token: tokens.refresh_token }),
    });
    assert.equal(badClient.status, 401);
  });

  it('the API answers 401 in the gateway fault shape for an expired token and 200 with a fresh one', async () => {
    const tokens = await connect();
    const ok = await companyInfo(tokens.access_token);
    assert.equal(ok.status, 200);
    assert.ok(ok.headers.get('intuit_tid'));
    const info = (await ok.json()) as { CompanyInfo: { Id: string; SyncToken: string } };
    assert.equal(info.CompanyInfo.Id, sim.realmId);

    sim.expireAccessTokens();
    const expired = await companyInfo(tokens.access_token);
    assert.equal(expired.status, 401);
    assert.ok(expired.headers.get('intuit_tid'));
    const body = (await expired.json()) as { fault: { error: Array<{ code: string }>; type: string } };
    assert.equal(body.fault.type, 'AUTHENTICATION');
    assert.equal(body.fault.error[0].code, '3200');

    const fresh = (await (await refresh(tokens.refresh_token)).json()) as TokenAnswer;
    assert.equal((await companyInfo(fresh.access_token)).status, 200);

    sim.advance(3601);
    assert.equal((await companyInfo(fresh.access_token)).status, 401);
    assert.equal((await companyInfo('unknown')).status, 401);
  });

  it('counts refresh calls per connection and per realm', async () => {
    const before = sim.refreshCount(sim.realmId);
    const a = await connect();
    const b = await connect();
    const a2 = (await (await refresh(a.refresh_token)).json()) as TokenAnswer;
    await refresh(a2.refresh_token);
    await refresh(b.refresh_token);
    await refresh('AB11unknown');
    assert.equal(sim.refreshCount(sim.realmId) - before, 3);
    const counts = sim.refreshCounts().slice(-2);
    assert.deepEqual(
      counts.map((c) => c.refreshes),
      [2, 1],
    );
    const state = (await (await fetch(`${sim.urls.api.replace('/v3/company', '')}/__simulator/state`)).json()) as {
      connections: unknown[];
    };
    assert.equal(state.connections.length, sim.refreshCounts().length);
  });

  it('injects faults on request: 429 with Retry-After, 503, latency, only where targeted', async () => {
    const tokens = await connect();
    sim.setFaults({ rateLimitRate: 1, retryAfterSeconds: 7, target: 'api' });
    const limited = await companyInfo(tokens.access_token);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.equal(
      ((await limited.json()) as { Fault: { Error: Array<{ code: string }> } }).Fault.Error[0].code,
      '003001',
    );
    assert.equal((await refresh(tokens.refresh_token)).status, 200, 'the token endpoint is not targeted');
    sim.setFaults({ rateLimitRate: 0, errorRate: 1, target: 'oauth' });
    assert.equal((await refresh('AB11whatever')).status, 503);
    sim.setFaults({ errorRate: 0, latencyMs: 60, target: 'all' });
    const started = Date.now();
    await refresh('AB11whatever');
    assert.ok(Date.now() - started >= 55);
    sim.clearFaults();
  });
});
