import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigValidationError, loadConfig } from './app-config';
import {
  DEPLOYED_APPS,
  DISTRIBUTED_MODE_REQUIREMENTS,
  environmentVariableNames,
  missingDistributedVariables,
} from './deployment-requirements';

/** Values for every variable any app requires, so each test removes exactly one. */
const COMPLETE: Record<string, string> = {
  KAFKA_BROKERS: 'kafka:9092',
  DATABASE_URL: 'mysql://hub:pw@db:3306/hub',
  GATEWAY_API_KEYS: 'aaaaaaaaaaaaaaaa',
  SCHEDULER_URL: 'http://scheduler',
  ACCOUNTING_SYNC_URL: 'http://accounting-sync',
  CRM_SYNC_URL: 'http://crm-sync',
  USAGE_SYNC_URL: 'http://usage-sync',
  SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
  SPLYNX_URL: 'https://splynx.example.com',
  SPLYNX_API_KEY: 'key',
  SPLYNX_API_SECRET: 'secret',
};

function without(name: string): Record<string, string> {
  const env = { ...COMPLETE };
  delete env[name];
  return env;
}

function problemsOf(app: string, env: Record<string, string>): string[] {
  try {
    loadConfig(app, env);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigValidationError);
    return err.problems;
  }
}

describe('environmentVariableNames', () => {
  it('lists the properties of EnvironmentVariables, including the newest ones', () => {
    const names = environmentVariableNames();
    for (const name of ['KAFKA_BROKERS', 'DATABASE_URL', 'SCHEDULER_URL', 'LOG_FORMAT', 'RUN_HISTORY_RETENTION_DAYS']) {
      assert.ok(names.includes(name as never), `${name} is known`);
    }
    assert.ok(!names.includes('KAFKA_BROKER' as never));
    assert.equal(new Set(names).size, names.length);
  });

  it('uses the names loadConfig reports problems under, for the variables issue 8 added', () => {
    // A bad value for each is reported under the variable's name, the same name the list holds.
    const rejected = problemsOf('gateway', {
      KAFKA_BROKERS: 'not a broker list',
      LOG_FORMAT: 'xml',
      RUN_HISTORY_RETENTION_DAYS: 'forever',
    });
    for (const name of ['KAFKA_BROKERS', 'LOG_FORMAT', 'RUN_HISTORY_RETENTION_DAYS']) {
      assert.ok(
        rejected.some((p) => p.startsWith(`${name} `)),
        `${name} is validated and known`,
      );
      assert.ok(environmentVariableNames().includes(name as never));
    }
  });
});

describe('DISTRIBUTED_MODE_REQUIREMENTS', () => {
  it('names only variables the DTO declares', () => {
    const known = new Set<string>(environmentVariableNames());
    for (const app of DEPLOYED_APPS) {
      for (const r of DISTRIBUTED_MODE_REQUIREMENTS[app]) {
        assert.ok(known.has(r.name), `${app}: ${r.name}`);
        if (r.when) assert.ok(known.has(r.when), `${app}: ${r.when}`);
      }
    }
  });

  it('agrees with loadConfig: every app starts with its requirements met', () => {
    for (const app of DEPLOYED_APPS) {
      assert.deepEqual(missingDistributedVariables(app, Object.keys(COMPLETE)), []);
      assert.deepEqual(problemsOf(app, COMPLETE), [], app);
      assert.equal(loadConfig(app, COMPLETE).mode, 'distributed');
    }
  });

  it('agrees with loadConfig on what a missing variable breaks', () => {
    for (const app of DEPLOYED_APPS) {
      assert.ok(problemsOf(app, without('DATABASE_URL')).some((p) => p.startsWith('DATABASE_URL')));
      assert.ok(problemsOf(app, without('SPLYNX_API_SECRET')).some((p) => p.includes('SPLYNX_API_SECRET')));
      assert.equal(loadConfig(app, without('KAFKA_BROKERS')).mode, 'embedded');
      const missing = missingDistributedVariables(app, Object.keys(without('DATABASE_URL'))).map((r) => r.name);
      assert.deepEqual(missing, ['DATABASE_URL']);
    }
  });

  it('asks for the Splynx key and secret only where SPLYNX_URL is set', () => {
    const names = Object.keys(COMPLETE).filter((n) => !n.startsWith('SPLYNX_'));
    assert.deepEqual(missingDistributedVariables('splynx-sync', names), []);
    assert.deepEqual(
      missingDistributedVariables('splynx-sync', [...names, 'SPLYNX_URL']).map((r) => r.name),
      ['SPLYNX_API_KEY', 'SPLYNX_API_SECRET'],
    );
  });

  it('asks the gateway for SCHEDULER_URL, whose default is the gateway pod itself', () => {
    assert.equal(loadConfig('gateway', without('SCHEDULER_URL')).gateway.schedulerUrl, 'http://localhost:3001');
    assert.deepEqual(
      missingDistributedVariables('gateway', Object.keys(without('SCHEDULER_URL'))).map((r) => r.name),
      ['SCHEDULER_URL'],
    );
    assert.deepEqual(
      missingDistributedVariables('scheduler', Object.keys(without('GATEWAY_API_KEYS'))).map((r) => r.name),
      ['GATEWAY_API_KEYS'],
    );
    assert.deepEqual(missingDistributedVariables('crm-sync', Object.keys(without('GATEWAY_API_KEYS'))), []);
  });

  it('asks the gateway for ACCOUNTING_SYNC_URL, and accounting-sync and the CLI for SECRETS_KEY and (accounting-sync) API keys', () => {
    assert.equal(
      loadConfig('gateway', without('ACCOUNTING_SYNC_URL')).gateway.accountingSyncUrl,
      'http://localhost:3003',
    );
    assert.deepEqual(
      missingDistributedVariables('gateway', Object.keys(without('ACCOUNTING_SYNC_URL'))).map((r) => r.name),
      ['ACCOUNTING_SYNC_URL'],
    );
    for (const app of ['accounting-sync', 'cli'] as const)
      assert.deepEqual(
        missingDistributedVariables(app, Object.keys(without('SECRETS_KEY'))).map((r) => r.name),
        ['SECRETS_KEY'],
      );
    assert.deepEqual(missingDistributedVariables('splynx-sync', Object.keys(without('SECRETS_KEY'))), []);
    assert.deepEqual(
      missingDistributedVariables('accounting-sync', Object.keys(without('GATEWAY_API_KEYS'))).map((r) => r.name),
      ['GATEWAY_API_KEYS'],
    );
  });

  it('asks the gateway for CRM_SYNC_URL, whose default is not crm-sync in a cluster', () => {
    assert.equal(loadConfig('gateway', without('CRM_SYNC_URL')).gateway.crmSyncUrl, 'http://localhost:3004');
    assert.equal(loadConfig('gateway', COMPLETE).gateway.crmSyncUrl, 'http://crm-sync');
    assert.deepEqual(
      missingDistributedVariables('gateway', Object.keys(without('CRM_SYNC_URL'))).map((r) => r.name),
      ['CRM_SYNC_URL'],
    );
  });

  it('asks the gateway for USAGE_SYNC_URL, and usage-sync (panel credentials, the usage API) for SECRETS_KEY and API keys', () => {
    assert.equal(loadConfig('gateway', without('USAGE_SYNC_URL')).gateway.usageSyncUrl, 'http://localhost:3005');
    assert.equal(loadConfig('gateway', COMPLETE).gateway.usageSyncUrl, 'http://usage-sync');
    assert.deepEqual(
      missingDistributedVariables('gateway', Object.keys(without('USAGE_SYNC_URL'))).map((r) => r.name),
      ['USAGE_SYNC_URL'],
    );
    for (const name of ['SECRETS_KEY', 'GATEWAY_API_KEYS'])
      assert.deepEqual(
        missingDistributedVariables('usage-sync', Object.keys(without(name))).map((r) => r.name),
        [name],
      );
  });
});
