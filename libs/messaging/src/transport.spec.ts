import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerKafka } from '@nestjs/microservices';
import { HubKafkaServer } from './transport';

/** The protected route lookup of a server, for the test: what Nest matches a record's topic against its handlers. */
function routeOf(server: ServerKafka, pattern: string): string {
  return (server as unknown as { getRouteFromPattern(p: string): string }).getRouteFromPattern(pattern);
}

describe("the Kafka server's route of a topic", () => {
  const hub = new HubKafkaServer({ client: { brokers: ['127.0.0.1:9'] } });
  const nest = new ServerKafka({ client: { brokers: ['127.0.0.1:9'] } });

  it('is the topic name itself, as Nest makes it, without parsing the name as JSON', () => {
    for (const topic of ['sync.splynx.requested.v1', 'crm.robaws.webhook.received.v1', 'a_b-c.d'])
      assert.equal(routeOf(hub, topic), routeOf(nest, topic));
    assert.equal(routeOf(hub, 'sync.run.completed.v1'), 'sync.run.completed.v1');
  });

  it('is still Nest’s own for a pattern that is JSON (an object, an array, a quoted string)', () => {
    for (const pattern of ['{"cmd":"sum","b":1}', '["a",1]', '"quoted"'])
      assert.equal(routeOf(hub, pattern), routeOf(nest, pattern));
    assert.equal(routeOf(hub, '{"b":1,"a":"x"}'), '{"a":"x","b":1}');
  });
});
