import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestException } from '@nestjs/common';
import {
  CreateConfigBody,
  CreatePanelBody,
  ListConfigsQuery,
  UpdateConfigBody,
  UpdatePanelBody,
} from '@sync-hub/contracts';
import { apiValidationPipe } from '@sync-hub/platform';

/** What the API's validation pipe makes of a body or query: the DTO's set fields, or the fields of its 400. */
async function validate(metatype: new () => object, value: unknown, type: 'body' | 'query' = 'body') {
  try {
    const dto = (await apiValidationPipe.transform(value, { type, metatype })) as Record<string, unknown>;
    // The class declares every field: those not given are there, undefined.
    return { ok: Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined)) };
  } catch (err) {
    assert.ok(err instanceof BadRequestException);
    return { fields: (err.getResponse() as { fields: Record<string, string[]> }).fields };
  }
}

describe('the usage API bodies and queries, through the API validation pipe', () => {
  it('a panel: type, http(s) url, name, limits; unknown fields named; names and urls trimmed', async () => {
    const bad = await validate(CreatePanelBody, {
      name: '  ',
      type: 'wireguard',
      url: 'ftp://panel.example',
      max_concurrency: 0,
      requests_per_second: 1.5,
      colour: 'red',
    });
    assert.deepEqual(Object.keys(bad.fields!).sort(), [
      'colour',
      'max_concurrency',
      'name',
      'requests_per_second',
      'type',
      'url',
    ]);
    const URL_MESSAGE =
      'url must be an http(s) URL, without a user or password in it (those go in username and password)';
    assert.deepEqual(bad.fields!.url, [URL_MESSAGE]);
    const withAuth = await validate(CreatePanelBody, {
      name: 'eu-2',
      type: 'marzban',
      url: 'https://admin:hunter2@panel.example',
    });
    assert.deepEqual(withAuth.fields!.url, [URL_MESSAGE], 'a password in the URL is refused, not stored and shown');
    assert.match(bad.fields!.type[0], /eylandoo, marzban, marzneshin, 3x-ui/);
    const ok = await validate(CreatePanelBody, {
      name: ' eu-1 ',
      type: '3x-ui',
      url: ' http://10.0.0.5:2053/xui ',
      username: 'u',
      password: 'p',
    });
    assert.deepEqual([ok.ok!.name, ok.ok!.url], ['eu-1', 'http://10.0.0.5:2053/xui']);
  });

  it('a panel PATCH: null removes a credential or the rate limit, but is no name, type or url', async () => {
    const ok = await validate(UpdatePanelBody, { password: null, requests_per_second: null });
    assert.deepEqual(ok.ok, { password: null, requests_per_second: null });
    const bad = await validate(UpdatePanelBody, { name: null, type: null, url: null, active: 'yes', settings: [] });
    assert.deepEqual(Object.keys(bad.fields!).sort(), ['active', 'name', 'settings', 'type', 'url']);
  });

  it('a config: ids are integers, the username not empty, the status one of the list, the limit positive', async () => {
    const bad = await validate(CreateConfigBody, {
      reseller_id: '1',
      panel_id: 0,
      external_username: '   ',
      status: 'paused',
      traffic_limit_bytes: -5,
    });
    assert.deepEqual(Object.keys(bad.fields!).sort(), [
      'external_username',
      'panel_id',
      'reseller_id',
      'status',
      'traffic_limit_bytes',
    ]);
    assert.deepEqual(bad.fields!.external_username, ['external_username must not be empty']);
    assert.deepEqual(Object.keys((await validate(CreateConfigBody, {})).fields!).sort(), [
      'external_username',
      'panel_id',
      'reseller_id',
    ]);
    const patch = await validate(UpdateConfigBody, { traffic_limit_bytes: null, panel_user_id: null });
    assert.deepEqual(patch.ok, { traffic_limit_bytes: null, panel_user_id: null });
    assert.deepEqual(Object.keys((await validate(UpdateConfigBody, { external_username: null })).fields!), [
      'external_username',
    ]);
  });

  it('the configs query: ids as numbers, filters checked, unknown ones named', async () => {
    const ok = await validate(ListConfigsQuery, { reseller_id: '3', panel_id: '4', limit: '10' }, 'query');
    assert.deepEqual(ok.ok, { reseller_id: 3, panel_id: 4, limit: 10 });
    const bad = await validate(
      ListConfigsQuery,
      { reseller_id: 'x', failing: 'maybe', limit: '501', cursor: '!!', colour: 'red', synced_before: 'yesterday' },
      'query',
    );
    assert.deepEqual(Object.keys(bad.fields!).sort(), [
      'colour',
      'cursor',
      'failing',
      'limit',
      'reseller_id',
      'synced_before',
    ]);
    assert.deepEqual(bad.fields!.synced_before, ['synced_before must be an ISO-8601 date-time']);
    const stale = await validate(ListConfigsQuery, { synced_before: '2026-12-06T10:00:00.000Z' }, 'query');
    assert.deepEqual(stale.ok, { synced_before: '2026-12-06T10:00:00.000Z' });
  });
});
