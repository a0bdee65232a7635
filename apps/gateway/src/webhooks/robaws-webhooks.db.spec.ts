import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '@sync-hub/config';
import { parseRobawsDelivery, Topic } from '@sync-hub/contracts';
import { EventPublisher, OutgoingMessage, ReliablePublisher } from '@sync-hub/messaging';
import {
  OutboxMessage,
  RobawsWebhookDeliveryRow,
  RobawsWebhookEndpointRow,
  sealWebhookSecret,
  SecretBox,
} from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { DELIVERY_RETENTION_DAYS, RobawsWebhookDeliveries } from './robaws-webhook-deliveries.service';
import { RobawsWebhookSecrets } from './robaws-webhook-secrets.service';

class RecordingPublisher extends EventPublisher {
  readonly sent: Array<{ topic: string } & OutgoingMessage> = [];
  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.sent.push(...messages.map((m) => ({ topic, ...m })));
  }
  async publishMany(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void> {
    for (const b of batches) await this.publish(b.topic, b.messages);
  }
  isConnected(): boolean {
    return true;
  }
}

const key = randomBytes(32);
const distributed = { KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'mysql://u@h:3306/db' };

describe('RobawsWebhookSecrets and RobawsWebhookDeliveries (SQLite with the migrations)', () => {
  let db: DataSource;
  before(async () => {
    db = await inMemoryDatabase([RobawsWebhookEndpointRow, RobawsWebhookDeliveryRow, OutboxMessage]);
  });
  after(async () => db.destroy());

  const endpoints = () => db.getRepository(RobawsWebhookEndpointRow);
  const store = (id: string, secret: string, box = new SecretBox(key)) =>
    endpoints().insert({
      endpointId: id,
      url: 'https://hub.example.com/hook',
      events: 'client.created,client.updated',
      secretSealed: sealWebhookSecret(box, id, secret),
      createdAt: new Date(),
    });

  it('knows ROBAWS_WEBHOOK_SECRET and every stored secret that opens; names sources by id', async () => {
    await store('ep-1', 'stored-secret-1');
    await store('ep-other-key', 'sealed-elsewhere', new SecretBox(randomBytes(32)));
    const config = loadConfig('gateway', {
      ...distributed,
      SECRETS_KEY: key.toString('base64'),
      ROBAWS_WEBHOOK_SECRET: 'env-secret-123',
    });
    const secrets = new RobawsWebhookSecrets(config, endpoints());
    assert.deepEqual(await secrets.current(), [
      { source: 'ROBAWS_WEBHOOK_SECRET', secret: 'env-secret-123' },
      { source: 'endpoint ep-1', secret: 'stored-secret-1' },
    ]);
    await endpoints().delete({ endpointId: 'ep-other-key' });
  });

  it('without SECRETS_KEY in the distributed mode uses the env secret only; with neither, none', async () => {
    const withEnv = new RobawsWebhookSecrets(
      loadConfig('gateway', { ...distributed, ROBAWS_WEBHOOK_SECRET: 'env-secret-123' }),
      endpoints(),
    );
    assert.deepEqual(
      (await withEnv.current()).map((s) => s.source),
      ['ROBAWS_WEBHOOK_SECRET'],
    );
    await endpoints().clear();
    assert.deepEqual(await new RobawsWebhookSecrets(loadConfig('gateway', distributed), endpoints()).current(), []);
  });

  it('accepts a delivery once: its id and its event in one transaction; a second time is a duplicate', async () => {
    const publisher = new RecordingPublisher();
    const outbox = new ReliablePublisher(publisher, db.getRepository(OutboxMessage));
    const deliveries = new RobawsWebhookDeliveries(db, db.getRepository(RobawsWebhookDeliveryRow), outbox);
    const parsed = parseRobawsDelivery(JSON.stringify({ id: 'd-1', event: 'client.updated', data: { id: 1005 } }));
    assert.ok(parsed.ok);
    assert.equal(await deliveries.accept(parsed.delivery), 'accepted');
    assert.equal(await deliveries.accept(parsed.delivery), 'duplicate');
    await outbox.flush();
    assert.equal(publisher.sent.length, 1);
    assert.deepEqual([publisher.sent[0].topic, publisher.sent[0].key], [Topic.RobawsWebhookReceived, '1005']);
    assert.equal(await db.getRepository(OutboxMessage).count(), 0, 'flushed');
  });

  it(`prunes delivery ids older than ${DELIVERY_RETENTION_DAYS} days, keeping newer ones`, async () => {
    const repo = db.getRepository(RobawsWebhookDeliveryRow);
    await repo.clear();
    const now = new Date('2026-12-06T12:00:00.000Z');
    const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
    await repo.insert([
      { deliveryId: 'old-1', clientId: 1, receivedAt: daysAgo(8) },
      { deliveryId: 'old-2', clientId: 2, receivedAt: daysAgo(DELIVERY_RETENTION_DAYS + 0.01) },
      { deliveryId: 'kept', clientId: 3, receivedAt: daysAgo(DELIVERY_RETENTION_DAYS - 0.01) },
    ]);
    const deliveries = new RobawsWebhookDeliveries(db, repo, {} as ReliablePublisher);
    assert.equal(await deliveries.prune(now), 2);
    assert.deepEqual(
      (await repo.find()).map((r) => r.deliveryId),
      ['kept'],
    );
  });
});
