import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiSettings, checkCredentials, checkSettings } from './panel-input';

describe('a panel’s credentials and settings, checked for its type', () => {
  it('each type needs the credentials its adapter logs in with, each missing one named', () => {
    assert.deepEqual(checkCredentials('eylandoo', {}, {}, {}).errors, {
      api_key: ['an eylandoo panel needs api_key (sent as X-API-Key)'],
    });
    for (const type of ['marzban', 'marzneshin'] as const)
      assert.deepEqual(Object.keys(checkCredentials(type, {}, { username: 'admin' }, {}).errors), ['password']);
    assert.deepEqual(Object.keys(checkCredentials('3x-ui', {}, {}, {}).errors), ['username', 'password']);
    const ok = checkCredentials('marzban', {}, { username: 'admin', password: 'pw-1234' }, {});
    assert.deepEqual(ok, { credentials: { username: 'admin', password: 'pw-1234' }, errors: {} });
  });

  it('a credential the type does not read is refused, not stored', () => {
    const checked = checkCredentials('marzban', {}, { username: 'a', password: 'b', api_key: 'k-123' }, {});
    assert.deepEqual(checked.errors, {
      api_key: ['a marzban panel does not use api_key (it uses username, password)'],
    });
    assert.equal(checked.credentials.apiKey, undefined);
  });

  it('3x-ui: username and password, or an api_token on a v3.1 panel only', () => {
    assert.deepEqual(checkCredentials('3x-ui', {}, { api_token: 'tok-1234' }, { generation: 'v3.1' }), {
      credentials: { apiToken: 'tok-1234' },
      errors: {},
    });
    assert.deepEqual(Object.keys(checkCredentials('3x-ui', {}, { api_token: 'tok-1234' }, {}).errors), ['api_token']);
    assert.deepEqual(
      checkCredentials('3x-ui', {}, { api_token: 't', username: 'u', password: 'p' }, { generation: 'legacy' }).errors,
      {},
    );
    assert.deepEqual(
      Object.keys(checkCredentials('3x-ui', {}, { api_token: 't', username: 'u' }, { generation: 'v3.1' }).errors),
      ['password'],
      'half a login pair is a mistake even with a token',
    );
  });

  it('merges with the stored ones: a value replaces, null removes, left out keeps; a new type keeps only what it reads', () => {
    const stored = { username: 'admin', password: 'old-pass' };
    assert.deepEqual(checkCredentials('marzban', stored, { password: 'new-pass' }, {}).credentials, {
      username: 'admin',
      password: 'new-pass',
    });
    assert.deepEqual(Object.keys(checkCredentials('marzban', stored, { password: null }, {}).errors), ['password']);
    assert.deepEqual(checkCredentials('eylandoo', stored, { api_key: 'key-1234' }, {}), {
      credentials: { apiKey: 'key-1234' },
      errors: {},
    });
  });

  it('settings per type: Eylandoo paths and 3x-ui generation and cookie name, stored as the adapters read them', () => {
    assert.deepEqual(checkSettings('eylandoo', { paths: { user: '/v2/users/{username}' } }), {
      stored: { paths: { user: '/v2/users/{username}' } },
      errors: {},
    });
    assert.deepEqual(checkSettings('3x-ui', { generation: 'v3.1', cookie_name: 'session' }), {
      stored: { generation: 'v3.1', cookieName: 'session' },
      errors: {},
    });
    assert.deepEqual(apiSettings('3x-ui', { generation: 'v3.1', cookieName: 'session' }), {
      generation: 'v3.1',
      cookie_name: 'session',
    });
    assert.deepEqual(apiSettings('marzban', null), {});
  });

  it('a bad or unknown setting is named', () => {
    assert.deepEqual(
      Object.keys(
        checkSettings('eylandoo', { paths: { user: '/users/me', token: '/t' }, generation: 'v3.1' }).errors,
      ).sort(),
      ['settings.generation', 'settings.paths.token', 'settings.paths.user'],
    );
    assert.deepEqual(Object.keys(checkSettings('eylandoo', { paths: 'x' }).errors), ['settings.paths']);
    assert.deepEqual(Object.keys(checkSettings('3x-ui', { generation: 'v4', cookie_name: 'a b' }).errors).sort(), [
      'settings.cookie_name',
      'settings.generation',
    ]);
    assert.deepEqual(checkSettings('marzban', { paths: {} }).errors, {
      'settings.paths': ['a marzban panel has no settings'],
    });
  });
});
