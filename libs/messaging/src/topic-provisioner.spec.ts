import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_TOPICS, COMPACTED_TOPICS, deadLetterTopic, isChangeEventTopic, Topic } from '@sync-hub/contracts';
import { hubTopics, topicConfig } from './topic-provisioner';

describe('topic settings', () => {
  it('compacts the change-event topics with the lag, segment and tombstone settings; their .dlq keeps delete', () => {
    const config = Object.fromEntries(topicConfig(Topic.SplynxCustomerChanged).map((c) => [c.name, c.value]));
    assert.deepEqual(config, {
      'cleanup.policy': 'compact',
      'min.compaction.lag.ms': '3600000',
      'segment.ms': '86400000',
      'delete.retention.ms': '86400000',
    });
    assert.deepEqual(topicConfig(deadLetterTopic(Topic.SplynxCustomerChanged)), []);
    assert.ok(hubTopics().includes(Topic.SplynxCustomerChanged));
  });

  it('compacts the state topics by policy alone, and leaves every other topic at the broker default', () => {
    for (const topic of ALL_TOPICS) {
      const policy = topicConfig(topic).find((c) => c.name === 'cleanup.policy')?.value;
      assert.equal(policy, COMPACTED_TOPICS.includes(topic) ? 'compact' : undefined, topic);
      if (!isChangeEventTopic(topic)) assert.ok(topicConfig(topic).length <= 1, topic);
    }
  });
});
