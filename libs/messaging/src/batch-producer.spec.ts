import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';

describe('BatchProducer', () => {
  it('puts a key on the partition kafkajs puts it on (Java murmur2), so a key keeps its order across producers', async () => {
    // The batch producer sends the outbox's rows; kafkajs sends the run events, and apps outside the hub use Java's
    // client. A schedule's ticks or a customer's events must land on one partition whichever sent them.
    const { compatibilityPartitioner } = await import('@platformatic/kafka');
    const kafkajs = Partitioners.DefaultPartitioner();
    const keys = [
      ...Array.from({ length: 500 }, (_, i) => String(i + 1)),
      ...Array.from({ length: 200 }, (_, i) => `${(i % 100) + 1}:splynx:customers.${i % 3 ? 'full' : 'hourly'}`),
      '1:DV-2026-000123',
      'ä-ö-ü:ßπ',
      'a'.repeat(300),
    ];
    let compared = 0;
    for (const partitions of [1, 2, 3, 6, 12, 50]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 1,
        replicas: [1],
        isr: [1],
        partitionErrorCode: 0,
      }));
      for (const key of keys) {
        const bytes = Buffer.from(key);
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key: bytes, value: null } });
        // The producer takes the partitioner's number modulo the topic's partitions.
        const actual = compatibilityPartitioner({ topic: 't', key: bytes }, bytes) % partitions;
        assert.equal(actual, expected, `key ${key} over ${partitions} partitions`);
        compared++;
      }
    }
    assert.equal(compared, keys.length * 6);
  });
});
