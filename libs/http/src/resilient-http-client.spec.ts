import assert from 'node:assert/strict';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { UpstreamHttpError, UpstreamMalformedBodyError, UpstreamNetworkError, UpstreamTimeoutError } from './errors';
import { parseRetryAfter, ResilientHttpClient, retryDelayMs } from './resilient-http-client';

/** A scripted upstream: each request takes the next answer of its path's script. */
function upstream() {
  const scripts = new Map<
    string,
    Array<{ status: number; body?: unknown; raw?: string; headers?: Record<string, string>; delayMs?: number }>
  >();
  const hits = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => void answer(req, res));
  async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const script = scripts.get(path) ?? [];
    const answer = script.length > 1 ? script.shift()! : (script[0] ?? { status: 200, body: { ok: true } });
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    inFlight--;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
  }
  return { server, scripts, hits, maxInFlight: () => maxInFlight };
}

describe('ResilientHttpClient', () => {
  const up = upstream();
  let baseUrl = '';
  const client = (over: Partial<ConstructorParameters<typeof ResilientHttpClient>[0]> = {}) =>
    new ResilientHttpClient({
      name: 'test',
      baseUrl,
      timeoutMs: 2000,
      retries: 3,
      retryBaseDelayMs: 5,
      maxConcurrency: 4,
      ...over,
    });

  before(async () => {
    await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(up.server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => up.server.close(() => r())));

  it('retries 5xx and 429 and returns the success that follows', async () => {
    up.scripts.set('/flaky', [
      { status: 500 },
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 200, body: [1, 2] },
    ]);
    const res = await client().request<number[]>({ method: 'GET', path: '/flaky' });
    assert.deepEqual(res.body, [1, 2]);
    assert.equal(up.hits.get('/flaky'), 3);
  });

  it('retries a 200 whose JSON is cut off, and after the retries fails as a retriable UPSTREAM_BAD_RESPONSE', async () => {
    up.scripts.set('/cut', [
      { status: 200, raw: '[{"id":1},{"i' },
      { status: 200, body: [{ id: 1 }] },
    ]);
    assert.deepEqual((await client().request({ method: 'GET', path: '/cut' })).body, [{ id: 1 }]);
    assert.equal(up.hits.get('/cut'), 2);
    up.scripts.set('/always-cut', [{ status: 200, raw: '{"QueryResponse":{' }]);
    const err = await client({ retries: 2 })
      .request({ method: 'GET', path: '/always-cut' })
      .catch((e: unknown) => e);
    assert.ok(err instanceof UpstreamMalformedBodyError);
    assert.deepEqual(err.toRunError(), {
      code: 'UPSTREAM_BAD_RESPONSE',
      message: 'test: GET /always-cut answered malformed or truncated JSON (18 bytes)',
      retriable: true,
      origin: 'source',
    });
    assert.equal(up.hits.get('/always-cut'), 3, 'the first attempt and its two retries');
  });

  it('waits rateLimitedWaitMs after a 429 without Retry-After (QuickBooks asks for 60 s and sends none)', async () => {
    up.scripts.set('/throttled', [{ status: 429 }, { status: 200, body: 'ok' }]);
    const started = Date.now();
    const res = await client({ rateLimitedWaitMs: 300, retryBaseDelayMs: 1 }).request({
      method: 'GET',
      path: '/throttled',
    });
    assert.equal(res.body, 'ok');
    assert.ok(Date.now() - started >= 290, 'it waited the configured time, not the 1 ms backoff');
    up.scripts.set('/throttled-5xx', [{ status: 503 }, { status: 200, body: 'ok' }]);
    const quick = Date.now();
    await client({ rateLimitedWaitMs: 5000, retryBaseDelayMs: 1 }).request({ method: 'GET', path: '/throttled-5xx' });
    assert.ok(Date.now() - quick < 1000, 'other retriable answers keep the usual backoff');
  });

  it('waits out a 429 storm for rateLimitedRounds more rounds, but not a 5xx', async () => {
    const storm = Array.from({ length: 7 }, () => ({ status: 429 }));
    up.scripts.set('/storm', [...storm, { status: 200, body: 'through' }]);
    const res = await client({ retries: 2, rateLimitedWaitMs: 5, rateLimitedRounds: 2, retryBaseDelayMs: 1 }).request({
      method: 'GET',
      path: '/storm',
    });
    assert.equal(res.body, 'through');
    assert.equal(up.hits.get('/storm'), 8, 'three rounds of one attempt plus two retries, the last answered');
    up.scripts.set(
      '/storm-long',
      Array.from({ length: 20 }, () => ({ status: 429 })),
    );
    await assert.rejects(
      client({ retries: 1, rateLimitedWaitMs: 1, rateLimitedRounds: 1, retryBaseDelayMs: 1 }).request({
        method: 'GET',
        path: '/storm-long',
      }),
      (err: unknown) => err instanceof UpstreamHttpError && err.status === 429,
    );
    assert.equal(up.hits.get('/storm-long'), 4, 'two rounds of two attempts, then the 429 is the answer');
    up.scripts.set('/down-rounds', [{ status: 503 }]);
    await assert.rejects(
      client({ retries: 1, rateLimitedRounds: 5, retryBaseDelayMs: 1 }).request({
        method: 'GET',
        path: '/down-rounds',
      }),
    );
    assert.equal(up.hits.get('/down-rounds'), 2, 'a 5xx gets the usual retries only');
  });

  it('sends bytes as they are, with the caller content type', async () => {
    const seen: Buffer[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: req.headers['content-type'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const bytes = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]);
    const res = await new ResilientHttpClient({
      name: 'bytes',
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      timeoutMs: 2000,
      retries: 0,
      retryBaseDelayMs: 1,
      maxConcurrency: 1,
    }).request<{ type: string }>({
      method: 'POST',
      path: '/up',
      headers: { 'content-type': 'application/pdf' },
      body: bytes,
    });
    await new Promise<void>((r) => server.close(() => r()));
    assert.equal(res.body.type, 'application/pdf');
    assert.deepEqual(seen[0], bytes);
  });

  it('gives up after the configured retries with a retriable error', async () => {
    up.scripts.set('/down', [{ status: 503, body: { error: 'down' } }]);
    await assert.rejects(client({ retries: 2 }).request({ method: 'GET', path: '/down' }), (err: unknown) => {
      assert.ok(err instanceof UpstreamHttpError);
      assert.equal(err.status, 503);
      assert.equal(err.retriable, true);
      assert.equal(err.code, 'UPSTREAM_UNAVAILABLE');
      return true;
    });
    assert.equal(up.hits.get('/down'), 3, 'one attempt plus two retries');
  });

  it('does not retry a 4xx', async () => {
    up.scripts.set('/bad', [{ status: 422, body: [{ field: 'name', message: 'Name cannot be blank.' }] }]);
    await assert.rejects(
      client().request({ method: 'POST', path: '/bad', body: {} }),
      (err: unknown) => err instanceof UpstreamHttpError && !err.retriable && err.status === 422,
    );
    assert.equal(up.hits.get('/bad'), 1);
  });

  it('caps requests in flight at maxConcurrency', async () => {
    up.scripts.set('/slow', [{ status: 200, body: {}, delayMs: 30 }]);
    const c = client({ maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 8 }, () => c.request({ method: 'GET', path: '/slow' })));
    assert.equal(up.maxInFlight(), 2);
  });

  it('times out a request that takes too long', async () => {
    up.scripts.set('/hang', [{ status: 200, body: {}, delayMs: 500 }]);
    await assert.rejects(
      client({ timeoutMs: 100, retries: 0 }).request({ method: 'GET', path: '/hang' }),
      UpstreamTimeoutError,
    );
  });

  it('reports an unreachable upstream as a retriable network error', async () => {
    const c = new ResilientHttpClient({
      name: 'gone',
      baseUrl: 'http://127.0.0.1:1',
      timeoutMs: 1000,
      retries: 1,
      retryBaseDelayMs: 1,
      maxConcurrency: 1,
    });
    await assert.rejects(
      c.request({ method: 'GET', path: '/' }),
      (err: unknown) => err instanceof UpstreamNetworkError && err.retriable,
    );
  });

  it('keeps secrets out of error messages', async () => {
    up.scripts.set('/tokens/s3cr3t-refresh', [{ status: 404, body: { echo: 's3cr3t-refresh' } }]);
    const c = client({ secrets: () => ['s3cr3t-refresh'] });
    await assert.rejects(c.request({ method: 'GET', path: '/tokens/s3cr3t-refresh' }), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.doesNotMatch(err.message, /s3cr3t/);
      assert.match(err.message, /\[redacted\]/);
      return true;
    });
  });

  it('computes Retry-After from seconds or a date, and prefers it to backoff', () => {
    assert.equal(parseRetryAfter('7'), 7000);
    assert.equal(
      parseRetryAfter(new Date(Date.parse('2030-01-01T00:00:10Z')).toUTCString(), Date.parse('2030-01-01T00:00:00Z')),
      10000,
    );
    assert.equal(parseRetryAfter(undefined), null);
    const limited = new UpstreamHttpError('x', 429, 'GET /', null, 4000);
    assert.equal(retryDelayMs(1, 100, limited), 4000);
  });

  it('backs off exponentially with jitter between half and all of the ceiling', () => {
    assert.equal(
      retryDelayMs(1, 100, new Error('x'), () => 0),
      50,
    );
    assert.equal(
      retryDelayMs(3, 100, new Error('x'), () => 1),
      400,
    );
    assert.equal(
      retryDelayMs(30, 100, new Error('x'), () => 1),
      30000,
      'capped',
    );
  });
});
