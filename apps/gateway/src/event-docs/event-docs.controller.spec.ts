import 'reflect-metadata';
import assert from 'node:assert/strict';
import { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ALL_TOPICS, asyncApiDocument, asyncApiYaml, deadLetterTopic } from '@sync-hub/contracts';
import { setupOpenApi } from '../openapi';
import { EventDocsModule } from './event-docs.module';
import { esc, eventDocsPage } from './event-docs.page';

describe('GET /docs/events (the AsyncAPI document, beside the OpenAPI /docs)', () => {
  let app: INestApplication;
  let base: string;

  before(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [EventDocsModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupOpenApi(app);
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  after(() => app?.close());

  it('serves the generated YAML (what docs/asyncapi.yaml holds) and the same document as JSON, without a key', async () => {
    const yaml = await fetch(`${base}/docs/events/asyncapi.yaml`);
    assert.equal(yaml.status, 200);
    assert.equal(yaml.headers.get('content-type'), 'application/yaml; charset=utf-8');
    assert.equal(await yaml.text(), asyncApiYaml());
    const json = await fetch(`${base}/docs/events/asyncapi.json`);
    assert.equal(json.status, 200);
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await json.json(), JSON.parse(JSON.stringify(asyncApiDocument())));
  });

  it('serves a page naming every topic and its .dlq, their messages, keys and payload fields, and linking the document', async () => {
    const res = await fetch(`${base}/docs/events`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    for (const topic of ALL_TOPICS) {
      assert.ok(html.includes(`<h2><code>${topic}</code></h2>`), topic);
      assert.ok(html.includes(`<h2><code>${deadLetterTopic(topic)}</code></h2>`), deadLetterTopic(topic));
    }
    assert.ok(html.includes('href="/docs/events/asyncapi.yaml"') && html.includes('href="/docs/events/asyncapi.json"'));
    const tick = html.slice(
      html.indexOf('id="message-SplynxRequested"'),
      html.indexOf('id="message-AccountingRequested"'),
    );
    assert.match(tick, /<code>sync\.splynx\.requested<\/code>/, 'the envelope type');
    assert.match(tick, /matches <code>\^\[1-9\]\[0-9\]\*:splynx:/, 'the key pattern');
    assert.match(tick, /<td><code>runId<\/code><\/td><td>string \(uuid\)<\/td><td>yes<\/td>/, 'a payload field');
    assert.match(tick, /<td><code>domain<\/code><\/td><td>string: one of <code>splynx<\/code>/);
    assert.match(html, /<td><code>stats<\/code><\/td><td><a href="#schema-RunStats">RunStats<\/a><\/td><td>yes/);
    assert.match(html, /<td><code>attempts<\/code><\/td><td>string<\/td><td>yes<\/td>/, 'dead-letter headers');
    assert.doesNotMatch(html, /<script|\bsrc=|https?:\/\//, 'no script, nothing loaded, no other host');
  });

  it('leaves the OpenAPI page and document where they were', async () => {
    assert.match(await (await fetch(`${base}/docs`)).text(), /swagger/i);
    assert.equal((await fetch(`${base}/docs-json`)).status, 200);
  });

  it('escapes every text it shows', () => {
    const doc = asyncApiDocument();
    doc.info.title = '<script>alert(1)</script>';
    doc.channels.splynxRequested.summary = 'a & b <img src=x onerror=alert(1)>';
    doc.components.messages.SplynxRequested.examples[0].payload = { note: '</pre><script>x</script>' };
    const html = eventDocsPage(doc);
    assert.doesNotMatch(html, /<script|<img/);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('a &amp; b &lt;img src=x onerror=alert(1)&gt;'));
    assert.equal(esc(`"'<>&`), '&quot;&#39;&lt;&gt;&amp;');
  });
});
