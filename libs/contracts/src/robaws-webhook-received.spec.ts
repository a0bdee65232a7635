import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseRobawsDelivery,
  robawsWebhookReceivedMessage,
  RobawsWebhookReceivedPayload,
} from './robaws-webhook-received';
import { Topic } from './topics';
import { InvalidMessageError, parseEnvelope } from './validation';

const body = {
  id: '37de8552-0007-4269-a76c-06a9415c8b65',
  event: 'client.updated',
  data: { id: 3473, name: '222 CARS', updatedAt: '2026-12-01T10:00:00.000Z' },
};

describe('parseRobawsDelivery', () => {
  it('reads {id, event, data} from bytes or text, the client id from data.id', () => {
    const parsed = parseRobawsDelivery(Buffer.from(JSON.stringify(body)));
    assert.deepEqual(parsed, {
      ok: true,
      delivery: { id: body.id, event: body.event, clientId: 3473, data: body.data },
    });
    const textId = parseRobawsDelivery(JSON.stringify({ ...body, data: { ...body.data, id: '3473' } }));
    assert.equal(textId.ok && textId.delivery.clientId, 3473, 'a numeric string id');
  });

  it('names the problem of a body that is not a delivery, without echoing values', () => {
    const cases: Array<[string, RegExp]> = [
      ['not json {', /not JSON/],
      ['[1,2]', /not a JSON object/],
      ['null', /not a JSON object/],
      [JSON.stringify({ ...body, id: 42 }), /^id:/],
      [JSON.stringify({ ...body, id: '' }), /^id:/],
      [JSON.stringify({ ...body, id: 'x'.repeat(65) }), /^id:/],
      [JSON.stringify({ ...body, event: undefined }), /^event:/],
      [JSON.stringify({ ...body, event: 'Client Updated' }), /^event:/],
      [JSON.stringify({ ...body, data: 'secret-ish' }), /^data:/],
      [JSON.stringify({ ...body, data: [] }), /^data:/],
      [JSON.stringify({ ...body, data: { name: 'no id' } }), /^data\.id:/],
      [JSON.stringify({ ...body, data: { id: 0 } }), /^data\.id:/],
      [JSON.stringify({ ...body, data: { id: 1.5 } }), /^data\.id:/],
      [JSON.stringify({ ...body, data: { id: 'abc' } }), /^data\.id:/],
    ];
    for (const [raw, problem] of cases) {
      const parsed = parseRobawsDelivery(raw);
      assert.equal(parsed.ok, false, raw);
      if (!parsed.ok) {
        assert.match(parsed.problem, problem, raw);
        assert.ok(!parsed.problem.includes('secret-ish'));
      }
    }
  });
});

describe('crm.robaws.webhook.received.v1', () => {
  const parsed = parseRobawsDelivery(JSON.stringify(body));
  assert.ok(parsed.ok);
  const receivedAt = new Date('2026-12-01T10:00:01.000Z');
  const message = robawsWebhookReceivedMessage(parsed.delivery, receivedAt);

  it('is keyed by the client id and carries the delivery id, event, full record and receipt time', () => {
    assert.equal(message.topic, Topic.RobawsWebhookReceived);
    assert.equal(message.key, '3473');
    assert.equal(message.value.type, 'crm.robaws.webhook.received');
    assert.deepEqual(message.value.payload, {
      deliveryId: body.id,
      event: 'client.updated',
      clientId: 3473,
      record: body.data,
      receivedAt: '2026-12-01T10:00:01.000Z',
    });
  });

  it('validates as the other events: the message passes, a broken or padded payload does not', () => {
    const roundTrip = JSON.parse(JSON.stringify(message.value)) as unknown;
    assert.deepEqual(parseEnvelope(roundTrip, RobawsWebhookReceivedPayload).payload.record, body.data);
    const broken = (change: Record<string, unknown>) => ({
      ...message.value,
      payload: { ...message.value.payload, ...change },
    });
    for (const change of [
      { clientId: 0 },
      { clientId: '3473' },
      { record: 'x' },
      { deliveryId: '' },
      { event: 'nope' },
      { receivedAt: 'yesterday' },
      { extra: true },
    ])
      assert.throws(
        () => parseEnvelope(broken(change), RobawsWebhookReceivedPayload),
        InvalidMessageError,
        JSON.stringify(change),
      );
  });
});
