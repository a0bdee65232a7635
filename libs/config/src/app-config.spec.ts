import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigValidationError, defaultLogFormat, loadConfig } from './app-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig('splynx-sync', env);
  } catch (err) {
    assert.ok(err instanceof ConfigValidationError);
    return err.problems;
  }
  assert.fail('expected the configuration to be rejected');
}

describe('loadConfig', () => {
  it('defaults to the embedded mode on SQLite under ./data with the app default port', () => {
    const config = loadConfig('splynx-sync', {});
    assert.equal(config.mode, 'embedded');
    assert.equal(config.kafka, null);
    assert.deepEqual(config.database, { kind: 'sqlite', file: path.resolve('data', 'sync-hub.sqlite') });
    assert.equal(config.port, 3002);
    assert.equal(config.splynx.pageSize, 500);
    assert.equal(config.splynx.authMode, 'api_key');
  });

  it('maps the distributed mode: brokers, group per app, MySQL url, numbers from strings', () => {
    const config = loadConfig('gateway', {
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      DATABASE_URL: 'mariadb://hub:pw@db:3306/hub',
      PORT: '8080',
      SPLYNX_PAGE_SIZE: ' 250 ',
      GATEWAY_API_KEYS: 'aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb',
    });
    assert.equal(config.mode, 'distributed');
    assert.deepEqual(config.kafka?.brokers, ['k1:9092', 'k2:9092']);
    assert.equal(config.kafka?.groupId, 'gateway');
    assert.deepEqual(config.database, { kind: 'mysql', url: 'mysql://hub:pw@db:3306/hub' });
    assert.equal(config.port, 8080);
    assert.equal(config.splynx.pageSize, 250);
    assert.deepEqual(config.gatewayApiKeys, ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
  });

  it('names each bad variable', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      SPLYNX_PAGE_SIZE: '0',
      KAFKA_BROKERS: 'not a broker',
      LOG_LEVEL: 'loud',
      SPLYNX_AUTH_MODE: 'oauth',
    });
    for (const name of ['PORT', 'SPLYNX_PAGE_SIZE', 'KAFKA_BROKERS', 'LOG_LEVEL', 'SPLYNX_AUTH_MODE']) {
      assert.ok(
        problems.some((p) => p.startsWith(name)),
        `${name} is named in ${JSON.stringify(problems)}`,
      );
    }
  });

  it('CHANGE_EVENTS: every domain by default, none with `none`, a list as given; anything else is named', () => {
    assert.deepEqual(loadConfig('splynx-sync', {}).changeEvents, ['splynx', 'accounting', 'crm', 'usage']);
    assert.deepEqual(loadConfig('splynx-sync', { CHANGE_EVENTS: 'all' }).changeEvents.length, 4);
    assert.deepEqual(loadConfig('splynx-sync', { CHANGE_EVENTS: 'none' }).changeEvents, []);
    assert.deepEqual(loadConfig('splynx-sync', { CHANGE_EVENTS: ' splynx, crm ' }).changeEvents, ['splynx', 'crm']);
    for (const bad of ['billing', 'splynx,,crm', 'all,splynx', 'SPLYNX']) {
      const problems = problemsOf({ CHANGE_EVENTS: bad });
      assert.ok(
        problems.some((p) => p.startsWith('CHANGE_EVENTS')),
        `${bad}: ${JSON.stringify(problems)}`,
      );
    }
  });

  it('requires DATABASE_URL with Kafka, and the Splynx key and secret with SPLYNX_URL', () => {
    assert.ok(problemsOf({ KAFKA_BROKERS: 'localhost:9092' }).some((p) => p.startsWith('DATABASE_URL is required')));
    const splynx = problemsOf({ SPLYNX_URL: 'https://splynx.example.com' });
    assert.ok(splynx.some((p) => p.includes('SPLYNX_API_KEY and SPLYNX_API_SECRET')));
  });

  it("the loyalty-club export (issue 12): the seed's defaults, the token required with a URL, and each bound", () => {
    assert.deepEqual(loadConfig('crm-sync', {}).crm.cp, {
      exportUrl: null,
      visitUrl: null,
      token: '',
      timeoutMs: 300_000,
      attempts: 3,
      retryDelayMs: 5000,
      batchLimit: 1000,
      maxLoops: 50,
    });
    const set = loadConfig('crm-sync', {
      CP_EXPORT_URL: 'https://clubprivileges.app/api/get-pending-sync-data',
      CP_VISIT_URL: 'https://clubprivileges.app/sync',
      CP_EXPORT_TOKEN: 'token-1',
      CP_EXPORT_TIMEOUT: '60',
      CP_EXPORT_RETRY_ATTEMPTS: '1',
      CP_EXPORT_RETRY_DELAY: '0',
      CP_EXPORT_BATCH_LIMIT: '5000',
      CP_EXPORT_MAX_LOOPS: '3',
    }).crm.cp;
    assert.deepEqual(
      [set.timeoutMs, set.attempts, set.retryDelayMs, set.batchLimit, set.maxLoops],
      [60_000, 1, 0, 5000, 3],
    );
    for (const only of ['CP_EXPORT_URL', 'CP_VISIT_URL'])
      assert.ok(
        problemsOf({ [only]: 'https://cp.example' }).some((p) => p.includes('CP_EXPORT_TOKEN is required')),
        only,
      );
    const bad = problemsOf({
      CP_EXPORT_URL: 'not a url',
      CP_EXPORT_TIMEOUT: '0',
      CP_EXPORT_RETRY_ATTEMPTS: '0',
      CP_EXPORT_RETRY_DELAY: '-1',
      CP_EXPORT_BATCH_LIMIT: '5001',
      CP_EXPORT_MAX_LOOPS: '0',
    });
    for (const name of [
      'CP_EXPORT_URL',
      'CP_EXPORT_TIMEOUT',
      'CP_EXPORT_RETRY_ATTEMPTS',
      'CP_EXPORT_RETRY_DELAY',
      'CP_EXPORT_BATCH_LIMIT',
      'CP_EXPORT_MAX_LOOPS',
    ])
      assert.ok(
        bad.some((p) => p.includes(name)),
        `${name} is named in ${JSON.stringify(bad)}`,
      );
  });

  it("Robaws (issue 11): defaults, the key pair required with ROBAWS_URL, and each variable's bounds", () => {
    const robaws = loadConfig('crm-sync', {}).crm.robaws;
    assert.deepEqual(robaws, {
      baseUrl: null,
      apiKey: '',
      apiSecret: '',
      webhookSecret: null,
      defaultCountry: 'BE',
      pageSize: 100,
      requestsPerSecond: 15,
    });
    const set = loadConfig('crm-sync', {
      ROBAWS_URL: 'https://app.robaws.com/',
      ROBAWS_API_KEY: 'key',
      ROBAWS_API_SECRET: 'secret',
      ROBAWS_WEBHOOK_SECRET: 'whsec-0123456789',
      ROBAWS_DEFAULT_COUNTRY: 'NL',
      ROBAWS_PAGE_SIZE: '50',
      ROBAWS_REQUESTS_PER_SECOND: '0',
    }).crm.robaws;
    assert.deepEqual(
      [set.baseUrl, set.defaultCountry, set.pageSize, set.requestsPerSecond],
      ['https://app.robaws.com', 'NL', 50, 0],
    );
    assert.ok(
      problemsOf({ ROBAWS_URL: 'https://app.robaws.com' }).some((p) =>
        p.includes('ROBAWS_API_KEY and ROBAWS_API_SECRET are required when ROBAWS_URL is set'),
      ),
    );
    const bad = problemsOf({
      ROBAWS_PAGE_SIZE: '101',
      ROBAWS_DEFAULT_COUNTRY: 'belgium',
      ROBAWS_WEBHOOK_SECRET: 'short',
      ROBAWS_REQUESTS_PER_SECOND: '-1',
    });
    for (const name of [
      'ROBAWS_PAGE_SIZE',
      'ROBAWS_DEFAULT_COUNTRY',
      'ROBAWS_WEBHOOK_SECRET',
      'ROBAWS_REQUESTS_PER_SECOND',
    ])
      assert.ok(
        bad.some((p) => p.includes(name)),
        `${name} is named in ${JSON.stringify(bad)}`,
      );
  });

  it('rejects a DATABASE_URL that is neither MySQL nor SQLite, and short gateway keys', () => {
    const problems = problemsOf({ DATABASE_URL: 'postgres://x@y/z', GATEWAY_API_KEYS: 'short' });
    assert.ok(problems.some((p) => p.startsWith('DATABASE_URL must be')));
    assert.ok(problems.some((p) => p.startsWith('GATEWAY_API_KEYS must be')));
  });

  it('LOG_FORMAT chooses json or pretty whatever the mode, and names a bad value', () => {
    assert.equal(loadConfig('embedded', { LOG_FORMAT: 'json' }).logFormat, 'json');
    const distributed = { KAFKA_BROKERS: 'k1:9092', DATABASE_URL: 'mysql://root@db/hub' };
    assert.equal(loadConfig('gateway', { ...distributed, LOG_FORMAT: ' pretty ' }).logFormat, 'pretty');
    assert.ok(problemsOf({ LOG_FORMAT: 'text' }).some((p) => p.startsWith('LOG_FORMAT')));
  });

  it('RUN_HISTORY_RETENTION_DAYS: 90 by default, a whole number of days from 1', () => {
    assert.equal(loadConfig('gateway', {}).gateway.runHistoryRetentionDays, 90);
    assert.equal(loadConfig('gateway', { RUN_HISTORY_RETENTION_DAYS: '30' }).gateway.runHistoryRetentionDays, 30);
    assert.ok(problemsOf({ RUN_HISTORY_RETENTION_DAYS: '0' }).some((p) => p.startsWith('RUN_HISTORY_RETENTION_DAYS')));
  });
});

describe('defaultLogFormat', () => {
  it('is pretty only for the embedded mode writing to a terminal', () => {
    assert.equal(defaultLogFormat('embedded', true), 'pretty');
    assert.equal(defaultLogFormat('embedded', false), 'json', 'piped or redirected: JSON for whatever reads it');
    assert.equal(defaultLogFormat('distributed', true), 'json', 'a deployed app logs JSON even on a terminal');
    assert.equal(defaultLogFormat('distributed', false), 'json');
  });
});
