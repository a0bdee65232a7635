import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportUpstreamError, UpstreamHttpError, UpstreamTimeoutError } from '@sync-hub/http';
import { MetricsService, SCRAPE_SOURCE_TIMEOUT_MS } from './metrics.service';

/** The value of one series of a metric, or undefined when the series is not there. */
async function valueOf(
  metrics: MetricsService,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = metrics.registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('MetricsService: values read at scrape time', () => {
  it('reads a source when scraped, reuses it for cacheMs, and reads it again after', async () => {
    const metrics = new MetricsService();
    let reads = 0;
    metrics.addScrapeSource({
      name: 'outbox',
      gauges: [metrics.outboxPending],
      cacheMs: 5000,
      refresh: async () => void metrics.outboxPending.set(++reads * 10),
    });
    assert.match(await metrics.scrape(1_000_000), /^outbox_pending_messages 10$/m);
    assert.match(await metrics.scrape(1_004_999), /^outbox_pending_messages 10$/m);
    assert.equal(reads, 1, 'within cacheMs the value is reused');
    assert.match(await metrics.scrape(1_005_000), /^outbox_pending_messages 20$/m);
    assert.equal(reads, 2);
    assert.equal(await valueOf(metrics, 'metrics_source_up', { source: 'outbox' }), 1);
  });

  it('a failing source leaves no stale number: its gauges are emptied and metrics_source_up is 0, then 1 again', async () => {
    const metrics = new MetricsService();
    let broken = false;
    metrics.addScrapeSource({
      name: 'kafka_offsets',
      gauges: [metrics.consumerLag],
      cacheMs: 0,
      refresh: async () => {
        if (broken) throw new Error('connect ECONNREFUSED 127.0.0.1:9');
        metrics.consumerLag.set({ group: 'splynx-sync', topic: 'sync.splynx.requested.v1' }, 7);
      },
    });
    await metrics.scrape();
    assert.equal(await valueOf(metrics, 'kafka_consumer_group_lag', { group: 'splynx-sync' }), 7);
    broken = true;
    const text = await metrics.scrape();
    assert.doesNotMatch(text, /^kafka_consumer_group_lag\{/m);
    assert.match(text, /^metrics_source_up\{source="kafka_offsets"\} 0$/m);
    broken = false;
    assert.match(await metrics.scrape(), /^metrics_source_up\{source="kafka_offsets"\} 1$/m);
    assert.equal(await valueOf(metrics, 'kafka_consumer_group_lag', { group: 'splynx-sync' }), 7);
  });

  it('answers within the time box when a source hangs, and concurrent scrapes share one read', async () => {
    const metrics = new MetricsService();
    let reads = 0;
    metrics.addScrapeSource({
      name: 'dead_letters',
      gauges: [metrics.deadLetterDepth],
      cacheMs: 5000,
      refresh: () => {
        reads++;
        return new Promise(() => undefined); // a broker that never answers
      },
    });
    const started = Date.now();
    const [a, b] = await Promise.all([metrics.scrape(), metrics.scrape()]);
    const took = Date.now() - started;
    console.log(`scrape with a hung source answered in ${took} ms`);
    assert.ok(took < SCRAPE_SOURCE_TIMEOUT_MS + 1000, `${took} ms`);
    for (const text of [a, b]) assert.match(text, /^metrics_source_up\{source="dead_letters"\} 0$/m);
    assert.equal(reads, 1, 'one read in flight, shared');
    await metrics.scrape();
    assert.equal(reads, 1, 'a read still in flight is joined, not started again');
  });

  it('a removed source is no longer read and its series are gone', async () => {
    const metrics = new MetricsService();
    let reads = 0;
    const remove = metrics.addScrapeSource({
      name: 'outbox',
      gauges: [metrics.outboxPending],
      cacheMs: 0,
      refresh: async () => void metrics.outboxPending.set(++reads),
    });
    await metrics.scrape();
    remove();
    const text = await metrics.scrape();
    assert.equal(reads, 1);
    assert.doesNotMatch(text, /metrics_source_up\{/);
  });
});

describe('MetricsService: upstream errors by class', () => {
  it('counts every failed attempt any HTTP client reports, by upstream and class, while the module lives', async () => {
    const metrics = new MetricsService();
    metrics.onModuleInit();
    const fail = (upstream: string, err: unknown) => assert.throws(() => reportUpstreamError(upstream, err));
    fail('quickbooks', new UpstreamHttpError('quickbooks', 429, 'GET /query', ''));
    fail('quickbooks', new UpstreamHttpError('quickbooks', 429, 'GET /query', ''));
    fail('quickbooks', new UpstreamHttpError('quickbooks', 503, 'GET /query', ''));
    fail('splynx', new UpstreamTimeoutError('splynx', 'GET /customers', 1000));
    fail('splynx', new Error('not an upstream answer'));
    assert.equal(await valueOf(metrics, 'upstream_errors_total', { upstream: 'quickbooks', class: 'rate_limited' }), 2);
    assert.equal(await valueOf(metrics, 'upstream_errors_total', { upstream: 'quickbooks', class: 'server_error' }), 1);
    assert.equal(await valueOf(metrics, 'upstream_errors_total', { upstream: 'splynx', class: 'timeout' }), 1);
    assert.equal((await metrics.upstreamErrors.get()).values.length, 3, 'an error that is no answer is not counted');
    metrics.onModuleDestroy();
    fail('splynx', new UpstreamTimeoutError('splynx', 'GET /customers', 1000));
    assert.equal(await valueOf(metrics, 'upstream_errors_total', { upstream: 'splynx', class: 'timeout' }), 1);
  });
});
