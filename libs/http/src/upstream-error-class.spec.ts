import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  UpstreamAuthError,
  UpstreamHttpError,
  UpstreamMalformedBodyError,
  UpstreamNetworkError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
} from './errors';
import { ResilientHttpClient } from './resilient-http-client';
import { onUpstreamError, UpstreamErrorClass, upstreamErrorClass } from './upstream-error-class';

describe('upstreamErrorClass', () => {
  it('names the class of every upstream failure, and none for an error that is not one', () => {
    const status = (s: number) => upstreamErrorClass(new UpstreamHttpError('u', s, 'GET /', ''));
    assert.equal(status(429), 'rate_limited');
    assert.equal(status(408), 'timeout');
    assert.equal(status(401), 'auth');
    assert.equal(status(403), 'auth');
    assert.equal(status(404), 'client_error');
    assert.equal(status(500), 'server_error');
    assert.equal(status(503), 'server_error');
    assert.equal(upstreamErrorClass(new UpstreamTimeoutError('u', 'GET /', 10)), 'timeout');
    assert.equal(upstreamErrorClass(new UpstreamNetworkError('u', 'GET /', new Error('ECONNREFUSED'))), 'unreachable');
    assert.equal(upstreamErrorClass(new UpstreamProtocolError('u', 'not a list')), 'bad_response');
    assert.equal(upstreamErrorClass(new UpstreamMalformedBodyError('u', 'GET /', 12)), 'bad_response');
    assert.equal(upstreamErrorClass(new UpstreamAuthError('u', 'the key was refused')), 'auth');
    assert.equal(upstreamErrorClass(new Error('a bug')), null);
  });
});

describe('ResilientHttpClient reports each failed attempt', () => {
  let server: http.Server;
  let baseUrl: string;
  const answers: Array<[number, string]> = [];

  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      const [status, body] = answers.shift() ?? [200, '{}'];
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('two 503s, a 429 and a truncated JSON body: four reports with their class; a success reports nothing', async () => {
    const heard: Array<[string, UpstreamErrorClass]> = [];
    const stop = onUpstreamError((upstream, errorClass) => heard.push([upstream, errorClass]));
    const client = new ResilientHttpClient({
      name: 'splynx',
      baseUrl,
      timeoutMs: 2000,
      retries: 3,
      retryBaseDelayMs: 1,
      maxConcurrency: 1,
    });
    try {
      answers.push([503, '{}'], [503, '{}'], [429, '{}'], [200, '{"ok":true}']);
      assert.deepEqual((await client.request({ method: 'GET', path: '/a' })).body, { ok: true });
      // A cut body is asked again, like a 5xx: reported once, then the answer.
      answers.push([200, '{"truncated": '], [200, '{"ok":2}']);
      assert.deepEqual((await client.request({ method: 'GET', path: '/b' })).body, { ok: 2 });
      assert.deepEqual(heard, [
        ['splynx', 'server_error'],
        ['splynx', 'server_error'],
        ['splynx', 'rate_limited'],
        ['splynx', 'bad_response'],
      ]);
      stop();
      answers.push([500, '{}'], [200, '{}']);
      await client.request({ method: 'GET', path: '/c' });
      assert.equal(heard.length, 4, 'a removed listener hears nothing');
    } finally {
      stop();
      await client.close();
    }
  });
});
