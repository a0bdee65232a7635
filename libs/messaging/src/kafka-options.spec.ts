import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logLevel } from 'kafkajs';
import { kafkaClientConfig, kafkaLogCreator, kafkaServerOptions } from './kafka-options';

describe('kafkajs logs through the app logger', () => {
  const lines: Array<[string, unknown]> = [];
  const logger = {
    error: (line: unknown) => void lines.push(['error', line]),
    warn: (line: unknown) => void lines.push(['warn', line]),
    log: (line: unknown) => void lines.push(['log', line]),
    debug: (line: unknown) => void lines.push(['debug', line]),
  };
  const write = kafkaLogCreator(logger)(logLevel.INFO);

  it('maps each kafkajs level to the logger method, with the namespace in the message and its fields beside it', () => {
    const log = (level: logLevel, message: string, extra: object = {}) =>
      write({
        namespace: 'Connection',
        level,
        label: logLevel[level],
        log: { timestamp: '2026-12-06T11:56:41.492Z', logger: 'kafkajs', message, ...extra },
      });
    log(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9', { broker: '127.0.0.1:9', retryCount: 2 });
    log(logLevel.WARN, 'a warning');
    log(logLevel.INFO, 'an info');
    log(logLevel.DEBUG, 'a debug line');
    assert.deepEqual(lines, [
      [
        'error',
        {
          msg: 'Connection: Connection error: connect ECONNREFUSED 127.0.0.1:9',
          namespace: 'Connection',
          broker: '127.0.0.1:9',
          retryCount: 2,
        },
      ],
      ['warn', { msg: 'Connection: a warning', namespace: 'Connection' }],
      ['log', { msg: 'Connection: an info', namespace: 'Connection' }],
      ['debug', { msg: 'Connection: a debug line', namespace: 'Connection' }],
    ]);
  });

  it('is the log creator of every client: producer, admin and the Nest consumer (whose own would flatten the line)', () => {
    const kafka = {
      brokers: ['127.0.0.1:9'],
      clientId: 'app',
      groupId: 'app',
      topicPartitions: 3,
      replicationFactor: 1,
    };
    assert.equal(typeof kafkaClientConfig(kafka).logCreator, 'function');
    assert.equal(typeof kafkaServerOptions(kafka).client?.logCreator, 'function');
  });
});
