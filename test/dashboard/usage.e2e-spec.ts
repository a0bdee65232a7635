import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { EylandooSimulator, MarzbanSimulator, MarzneshinSimulator, ThreeXuiSimulator } from '@sync-hub/simulators';
import { Browser, Page } from 'playwright-core';
import { AppProcess, ARTIFACTS, startAppProcess } from '../support/app-process';
import { launchChromium } from '../support/browser';
import { createTestDatabase, TestDatabase } from '../support/database';
import { TEST_KAFKA_BROKERS } from '../support/env';
import { freshGroup } from '../support/kafka';

const API_KEY = 'e2e-dashboard-usage-key-0123456789';
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;
/** A reseller name that is markup: the page must show it as text, never run it. */
const HOSTILE_NAME = 'Beta <img src=x onerror="window.__usageXss=1"> VPN';
const INTERVAL_SETTING = 'reseller.usage_sync_interval_minutes';

/**
 * The Usage card in a real browser (Debian chromium, playwright-core): the gateway, usage-sync and the scheduler as
 * processes on Kafka and MariaDB, the four panel simulators over HTTP; resellers, panels and configs made through the
 * API, their usage read by the diagnostic route (the job's adapter and writer).
 */
describe('the Usage card in a real browser (gateway, usage-sync, scheduler, Kafka, MariaDB, panel simulators)', () => {
  let db: TestDatabase;
  let usage: AppProcess;
  let scheduler: AppProcess;
  let gateway: AppProcess;
  let browser: Browser;
  let page: Page;
  const eylandoo = new EylandooSimulator({
    seed: 131,
    growBytesPerRead: 0,
    apiKey: `eyl-key-${randomBytes(8).toString('hex')}`,
  });
  const marzban = new MarzbanSimulator({
    seed: 132,
    growBytesPerRead: 0,
    adminPassword: `mzb-pass-${randomBytes(8).toString('hex')}`,
  });
  const marzneshin = new MarzneshinSimulator({
    seed: 133,
    growBytesPerRead: 0,
    adminPassword: `mzn-pass-${randomBytes(8).toString('hex')}`,
  });
  const xui = new ThreeXuiSimulator({
    seed: 134,
    growBytesPerRead: 0,
    adminPassword: `xui-pass-${randomBytes(8).toString('hex')}`,
  });
  /** Answers every request with its proxy's 502: the dead panel. */
  const dead = new MarzbanSimulator({
    seed: 135,
    growBytesPerRead: 0,
    adminPassword: `dead-pass-${randomBytes(8).toString('hex')}`,
  });
  const simulators = [eylandoo, marzban, marzneshin, xui, dead];
  const secrets = [
    eylandoo.apiKey,
    marzban.adminPassword,
    marzneshin.adminPassword,
    xui.adminPassword,
    dead.adminPassword,
  ];
  const xuiEmail = xui.email(3);
  const resellers: Record<string, number> = {};
  const panels: Record<string, number> = {};
  const configs: Record<string, number> = {};

  const shot = (name: string) =>
    page.screenshot({ path: path.join(ARTIFACTS, `dashboard-usage-${name}.png`), fullPage: true });
  const api = async (method: string, route: string, body?: unknown) => {
    const res = await fetch(`${gateway.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };
  const created = async (route: string, body: object): Promise<number> => {
    const res = await api('POST', route, body);
    assert.equal(res.status, 201, `${route}: ${res.text}`);
    return res.body.id as number;
  };
  const addConfig = async (
    label: string,
    reseller: string,
    panel: string,
    username: string,
    limit: number | null = null,
  ): Promise<number> =>
    (configs[label] = await created('/api/usage/configs', {
      reseller_id: resellers[reseller],
      panel_id: panels[panel],
      external_username: username,
      traffic_limit_bytes: limit,
    }));
  const syncByApi = async (label: string) => {
    const res = await api('POST', `/api/usage/configs/${configs[label]}/sync`);
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  /** The stored time of the last good sync, moved back as if the job had not reached the config since. */
  const syncedMinutesAgo = async (label: string, minutes: number) => {
    await db.dataSource.query('UPDATE reseller_configs SET usage_synced_at = ? WHERE id = ?', [
      new Date(Date.now() - minutes * 60_000),
      configs[label],
    ]);
    const stored = (await api('GET', `/api/usage/configs/${configs[label]}`)).body.usage_synced_at;
    const age = (Date.now() - Date.parse(stored)) / 60_000;
    assert.ok(Math.abs(age - minutes) < 1, `${label} synced ${minutes} min ago, the API says ${stored}`);
  };
  const panelRow = (name: string) => page.locator(`#usage-panels tr[data-id="${panels[name]}"]`);
  const configRow = (label: string) => page.locator(`#usage-configs tr[data-id="${configs[label]}"]`);
  const attentionRow = (label: string) => page.locator(`#usage-attention tr[data-id="${configs[label]}"]`);
  const attentionIds = () =>
    page
      .locator('#usage-attention tr[data-id]')
      .evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.id)));
  const diagnostic = async () => {
    const banner = page.locator('#usage-sync-result');
    const fields = await banner
      .locator('dd[data-field]')
      .evaluateAll((dds) => Object.fromEntries(dds.map((d) => [(d as HTMLElement).dataset.field, d.textContent])));
    return {
      title: await banner.locator('b').first().innerText(),
      role: await banner.getAttribute('role'),
      status: await banner.getAttribute('data-status'),
      fields,
    };
  };
  /** Clicks a row's Sync and waits for the diagnostic of that sync to be shown. */
  const clickSync = async (table: 'usage-configs' | 'usage-attention', label: string) => {
    const answered = page.waitForResponse(
      (r) => r.url().endsWith(`/api/usage/configs/${configs[label]}/sync`) && r.request().method() === 'POST',
    );
    await page
      .locator(`#${table} tr[data-id="${configs[label]}"]`)
      .getByRole('button', { name: new RegExp(`^Sync config ${configs[label]} `) })
      .click();
    await answered;
    await page.waitForFunction(() => !document.querySelector('#usage-sync-result')?.hasAttribute('hidden'));
    return diagnostic();
  };
  const openDashboard = async () => {
    await page.goto(gateway.url);
    if (await page.isVisible('#key-form')) {
      await page.fill('#api-key', API_KEY);
      await page.click('#key-form button');
    }
    await page.waitForSelector('#usage-panels tr[data-id]');
    await page.waitForSelector('#usage-configs tr[data-id]');
  };

  before(async () => {
    db = await createTestDatabase('dashboard_usage');
    // No schedule of this suite ticks: the usage is read by the diagnostic route only, so the test knows every read.
    await db.dataSource.query(
      "UPDATE schedules SET enabled = 0, paused_reason = 'not part of this suite', next_run_at = NULL",
    );
    for (const sim of simulators) await sim.start();
    await dead.setDead('error');
    eylandoo.addUser('eyl-half', { shape: 'total_traffic_bytes', usedBytes: 512 * MIB });
    eylandoo.removeUser('eyl-ghost');
    marzban.setUsage('mzb-over', 5 * GIB);
    marzban.setUsage('mzb-steady', 1 * GIB);
    marzban.setUsage('mzb-old', 2 * GIB);
    marzneshin.setUsage('user7', 6 * GIB);
    xui.setUsage(xuiEmail, { up: 100 * MIB, down: 200 * MIB });

    const common = {
      KAFKA_BROKERS: TEST_KAFKA_BROKERS,
      DATABASE_URL: db.url,
      GATEWAY_API_KEYS: API_KEY,
    };
    [usage, scheduler] = await Promise.all([
      startAppProcess(
        'usage-sync',
        {
          ...common,
          KAFKA_GROUP_ID: await freshGroup('dashboard-usage', [Topic.UsageRequested]),
          SECRETS_KEY: randomBytes(32).toString('base64'),
          USAGE_PANEL_TIMEOUT: '2',
        },
        'dashboard-usage-usage-sync',
      ),
      startAppProcess(
        'scheduler',
        {
          ...common,
          KAFKA_GROUP_ID: `scheduler-dashboard-usage-${randomBytes(4).toString('hex')}`,
          // Held at the wall clock: no minute turns, so no tick is published whatever the schedules say.
          SCHEDULER_CLOCK: 'manual',
          SCHEDULER_CLOCK_START: new Date().toISOString(),
          SCHEDULER_RUN_ON_START: 'none',
        },
        'dashboard-usage-scheduler',
      ),
    ]);
    gateway = await startAppProcess(
      'gateway',
      {
        ...common,
        KAFKA_GROUP_ID: `gateway-dashboard-usage-${randomBytes(4).toString('hex')}`,
        USAGE_SYNC_URL: usage.url,
        SCHEDULER_URL: scheduler.url,
        GATEWAY_RATE_LIMIT_PER_MINUTE: '100000',
      },
      'dashboard-usage-gateway',
    );

    resellers.alpha = await created('/api/usage/resellers', { name: 'Alpha Net' });
    resellers.beta = await created('/api/usage/resellers', { name: HOSTILE_NAME });
    panels.eyl = await created('/api/usage/panels', {
      name: 'eyl-1',
      type: 'eylandoo',
      url: eylandoo.url,
      api_key: eylandoo.apiKey,
    });
    panels.mzb = await created('/api/usage/panels', {
      name: 'mzb-1',
      type: 'marzban',
      url: marzban.url,
      username: marzban.adminUsername,
      password: marzban.adminPassword,
    });
    panels.mzn = await created('/api/usage/panels', {
      name: 'mzn-1',
      type: 'marzneshin',
      url: marzneshin.url,
      username: marzneshin.adminUsername,
      password: marzneshin.adminPassword,
    });
    panels.xui = await created('/api/usage/panels', {
      name: 'xui-1',
      type: '3x-ui',
      url: xui.url,
      username: xui.adminUsername,
      password: xui.adminPassword,
    });
    panels.dead = await created('/api/usage/panels', {
      name: 'dead-1',
      type: 'marzban',
      url: dead.url,
      username: dead.adminUsername,
      password: dead.adminPassword,
    });
    await addConfig('half', 'alpha', 'eyl', 'eyl-half', 1 * GIB);
    await addConfig('over', 'alpha', 'mzb', 'mzb-over', 4 * GIB);
    await addConfig('steady', 'alpha', 'mzb', 'mzb-steady', 10 * GIB);
    await addConfig('old', 'alpha', 'mzb', 'mzb-old');
    await addConfig('nolimit', 'alpha', 'mzn', 'user7');
    await addConfig('blank', 'alpha', 'mzn', 'to-be-blank');
    await addConfig('ghost', 'beta', 'eyl', 'eyl-ghost', 1 * GIB);
    await addConfig('xui', 'beta', 'xui', xuiEmail, 1 * GIB);
    await addConfig('down', 'beta', 'dead', 'dead-user', 1 * GIB);
    // The API refuses an empty username; an older row may have one (the seed skips it with a warning).
    await db.dataSource.query("UPDATE reseller_configs SET external_username = '' WHERE id = ?", [configs.blank]);
    for (const label of ['half', 'over', 'steady', 'old', 'nolimit', 'ghost', 'xui', 'down']) await syncByApi(label);
    await syncedMinutesAgo('steady', 7);
    await syncedMinutesAgo('old', 30);

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1500, height: 1400 } });
  });

  after(async () => {
    await browser?.close();
    await Promise.all([gateway?.stop(), usage?.stop(), scheduler?.stop()]);
    for (const sim of simulators) await sim.stop();
    await db?.drop();
  });

  it("shows each panel's health: last success, last error and when, error rate, circuit; never a credential", async () => {
    await openDashboard();
    assert.equal(await page.locator('#usage-panels tr[data-id]').count(), 5);
    const listed = (await api('GET', '/api/usage/panels')).body.data as Array<{
      id: number;
      name: string;
      last_error: string | null;
      circuit_state?: string;
    }>;

    const eyl = panelRow('eyl');
    assert.equal(await eyl.getAttribute('data-health'), 'degraded', 'it answers, but one of its users is unknown');
    assert.equal(await eyl.locator('td.type').innerText(), 'eylandoo');
    assert.equal(await eyl.locator('td.configs').innerText(), '2 active of 2');
    assert.equal(await eyl.locator('td.error-rate').innerText(), '50.0 % (1 of 2 failing)');
    assert.match(await eyl.locator('td.last-success').innerText(), /\((just now|\d+ min ago)\)$/);
    assert.equal(await eyl.locator('td.last-error').innerText(), 'none');

    const mzb = panelRow('mzb');
    assert.equal(await mzb.getAttribute('data-health'), 'ok');
    assert.equal(await mzb.locator('td.health').innerText(), 'OK');
    assert.equal(await mzb.locator('td.error-rate').innerText(), '0.0 % (0 of 3 failing)');

    const down = panelRow('dead');
    assert.equal(await down.getAttribute('data-health'), 'failing');
    assert.equal(await down.locator('td.health').innerText(), 'Failing');
    assert.equal(await down.locator('td.last-success').innerText(), 'never');
    const storedError = String(listed.find((p) => p.id === panels.dead)?.last_error);
    assert.match(storedError, /502/);
    const lastError = await down.locator('td.last-error').innerText();
    // The panel's 502 page is shown as text (innerText folds its line breaks).
    const oneLine = storedError.replace(/\s+/g, ' ').trim();
    assert.ok(lastError.replace(/\s+/g, ' ').startsWith(oneLine), `${lastError} shows ${oneLine}`);
    assert.equal(await down.locator('td.last-error h1').count(), 0, 'no element made of the body');
    assert.match(lastError, /\((just now|\d+ min ago)\)$/, 'and when');
    assert.equal(await down.locator('td.error-rate').innerText(), '100.0 % (1 of 1 failing)');

    // The circuit as usage-sync reports it on the panel (circuit_state); "unknown" where the answer has none.
    for (const p of listed) {
      const expected = p.circuit_state ?? 'unknown';
      const row = page.locator(`#usage-panels tr[data-id="${p.id}"]`);
      assert.equal(await row.getAttribute('data-circuit'), expected, `panel ${p.name}`);
    }
    assert.equal(await panelRow('xui').locator('td.name div').innerText(), new URL(xui.url).origin);

    const html = await page.content();
    for (const secret of secrets) assert.ok(!html.includes(secret), 'no credential reaches the page');
    await shot('1-panels');
  });

  it('lists the configs per reseller with their usage in bytes for people and the share of their limit', async () => {
    await openDashboard();
    const half = configRow('half');
    assert.equal(await half.locator('td.usage').innerText(), '512.00 MiB');
    assert.equal(await half.locator('td.usage').getAttribute('title'), `${512 * MIB} bytes`);
    assert.equal(await half.locator('td.limit').innerText(), '1.00 GiB');
    assert.equal((await half.locator('td.share').innerText()).trim(), '50.0 %');
    assert.equal(await half.locator('td.share meter').evaluate((m) => (m as HTMLMeterElement).value), 50);
    assert.equal(await half.locator('td.reseller').innerText(), 'Alpha Net');
    assert.equal(await half.locator('td.panel').innerText(), 'eyl-1 (eylandoo)');

    const over = configRow('over');
    assert.equal((await over.locator('td.share').innerText()).trim(), '125.0 %');
    assert.match((await over.locator('td.share').getAttribute('class')) ?? '', /\bover\b/);
    assert.equal(await over.locator('td.share meter').evaluate((m) => (m as HTMLMeterElement).value), 100);
    assert.equal(await configRow('nolimit').locator('td.share').innerText(), 'no limit');
    assert.equal(await configRow('nolimit').locator('td.usage').innerText(), '6.00 GiB');
    assert.equal(await configRow('xui').locator('td.usage').innerText(), '300.00 MiB', '3x-ui: up + down');
    assert.equal(await page.locator('#usage-configs tr[data-id]').count(), 9);

    // The markup in a reseller's name is text: no element made of it, nothing run.
    const option = page.locator(`#usage-reseller option[value="${resellers.beta}"]`);
    assert.equal(await option.innerText(), `${HOSTILE_NAME} (3 configs)`);
    assert.equal(await configRow('ghost').locator('td.reseller').innerText(), HOSTILE_NAME);
    assert.equal(await page.locator('#usage-card img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __usageXss?: number }).__usageXss), undefined);

    const answered = page.waitForResponse((r) => r.url().includes(`reseller_id=${resellers.beta}`));
    await page.selectOption('#usage-reseller', String(resellers.beta));
    await answered;
    await page.waitForFunction(() => document.querySelectorAll('#usage-configs tr[data-id]').length === 3);
    const betaIds = await page
      .locator('#usage-configs tr[data-id]')
      .evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.id)));
    assert.deepEqual(betaIds, [configs.ghost, configs.xui, configs.down]);
    await shot('2-configs-beta');
    await page.selectOption('#usage-reseller', '');
    await page.waitForFunction(() => document.querySelectorAll('#usage-configs tr[data-id]').length === 9);
  });

  it('lists the configs whose last sync was a hard failure or is older than two intervals of the setting', async () => {
    await openDashboard();
    assert.match(
      await page.locator('#usage-attention-rule').innerText(),
      new RegExp(`more than two intervals: 10 minutes \\(${INTERVAL_SETTING.replace(/\./g, '\\.')} is 5\\)`),
    );
    assert.deepEqual(await attentionIds(), [configs.old, configs.ghost, configs.down]);
    const ghost = attentionRow('ghost');
    assert.equal(await ghost.getAttribute('data-reasons'), 'failing');
    assert.match(await ghost.locator('td.why').innerText(), /^Hard failure .+: eylandoo panel eyl-1: HTTP 404/);
    assert.equal(await ghost.locator('td.reseller').innerText(), HOSTILE_NAME);
    assert.match(await attentionRow('down').locator('td.why').innerText(), /^Hard failure .*502/);
    assert.equal(await attentionRow('old').getAttribute('data-reasons'), 'stale');
    assert.match(await attentionRow('old').locator('td.why').innerText(), /^Stale last synced .+ \(30 min ago\)$/);

    // Interval 3 (the scheduler's setting, through the gateway): two intervals are 6 minutes, so 7 minutes is stale.
    await syncedMinutesAgo('steady', 7);
    const put = await api('PUT', `/api/settings/${INTERVAL_SETTING}`, { value: 3 });
    assert.equal(put.status, 200, put.text);
    await openDashboard();
    await page.waitForFunction(() =>
      document.querySelector('#usage-attention-rule')?.textContent?.includes('6 minutes'),
    );
    assert.deepEqual(await attentionIds(), [configs.steady, configs.old, configs.ghost, configs.down]);
    assert.match(await attentionRow('steady').locator('td.why').innerText(), /^Stale last synced .+ \(7 min ago\)$/);
    await shot('3-attention');
  });

  it('Sync reads one config now and shows the diagnostic: updated, unchanged, hard failure, skipped', async () => {
    await openDashboard();
    eylandoo.setUsage('eyl-half', 768 * MIB);
    let d = await clickSync('usage-configs', 'half');
    assert.equal(d.status, 'updated');
    assert.equal(d.role, 'status');
    assert.equal(d.title, `Sync of config ${configs.half} (eyl-half): updated`);
    assert.deepEqual(d.fields, {
      status: 'updated',
      panel_type: 'eylandoo',
      fetched_bytes: `768.00 MiB (${768 * MIB} bytes)`,
      source_field: 'userInfo.total_traffic_bytes',
      previous_bytes: `512.00 MiB (${512 * MIB} bytes)`,
      current_bytes: `768.00 MiB (${768 * MIB} bytes)`,
      delta_bytes: `+256.00 MiB (${256 * MIB} bytes)`,
    });
    await page.waitForFunction(
      (id) => document.querySelector(`#usage-configs tr[data-id="${id}"] td.share`)?.textContent?.trim() === '75.0 %',
      configs.half,
    );
    await shot('4-synced');

    d = await clickSync('usage-configs', 'half');
    assert.equal(d.status, 'unchanged');
    assert.equal(d.fields.delta_bytes, '0 B (0 bytes)');

    // From the failing list: the user is still unknown to its panel; the usage is kept.
    d = await clickSync('usage-attention', 'ghost');
    assert.equal(d.status, 'hard_failure');
    assert.equal(d.role, 'alert');
    assert.equal(d.fields.status, 'hard failure: the stored usage is kept');
    assert.equal(d.fields.fetched_bytes, '—');
    assert.equal(d.fields.source_field, '—');
    assert.equal(d.fields.delta_bytes, '0 B (0 bytes)');
    assert.match(String(d.fields.error), /^eylandoo panel eyl-1: HTTP 404/);
    await shot('5-hard-failure');

    // Back on its panel: the next Sync clears the failure and the config leaves the list.
    eylandoo.addUser('eyl-ghost', { shape: 'upload_download', usedBytes: 300 * MIB });
    d = await clickSync('usage-attention', 'ghost');
    assert.equal(d.status, 'updated');
    assert.equal(d.fields.source_field, 'userInfo.upload_bytes + download_bytes');
    await page.waitForFunction((id) => !document.querySelector(`#usage-attention tr[data-id="${id}"]`), configs.ghost);
    assert.equal(await panelRow('eyl').getAttribute('data-health'), 'ok');
    assert.equal(await panelRow('eyl').locator('td.error-rate').innerText(), '0.0 % (0 of 2 failing)');

    d = await clickSync('usage-configs', 'blank');
    assert.equal(d.status, 'skipped');
    assert.equal(d.role, 'alert');
    assert.equal(d.title, `Sync of config ${configs.blank} (no username): skipped`);
    assert.ok(d.fields.error, 'it says why');
    assert.equal(d.fields.fetched_bytes, '—');

    const html = await page.content();
    for (const secret of secrets) assert.ok(!html.includes(secret), 'no credential reaches the page');
  });

  it('says so when usage-sync or the setting cannot be reached: the Sync fails in words, the default interval is used', async () => {
    await openDashboard();
    // 7 minutes: stale by the setting's 3, not by the default's 5.
    await syncedMinutesAgo('steady', 7);
    await scheduler.stop();
    await page.reload();
    await page.waitForFunction(() =>
      document.querySelector('#usage-attention-rule')?.textContent?.includes('could not be read'),
    );
    assert.match(
      await page.locator('#usage-attention-rule').innerText(),
      /10 minutes \(the default interval of 5 minutes; reseller\.usage_sync_interval_minutes could not be read: .+\)/,
    );
    assert.deepEqual(await attentionIds(), [configs.old, configs.down], 'stale by the default interval again');

    await usage.stop();
    const answered = page.waitForResponse((r) => r.url().endsWith(`/api/usage/configs/${configs.half}/sync`));
    await configRow('half')
      .getByRole('button', { name: new RegExp(`^Sync config ${configs.half} `) })
      .click();
    assert.equal((await answered).status(), 502);
    await page.waitForFunction(
      () => document.querySelector('#usage-sync-result')?.getAttribute('data-status') === 'error',
    );
    assert.equal(await page.getAttribute('#usage-sync-result', 'role'), 'alert');
    assert.match(
      await page.locator('#usage-sync-result').innerText(),
      new RegExp(`^The config ${configs.half} \\(eyl-half\\) was not synced: usage-sync is unreachable`),
    );
    await page.waitForFunction(() =>
      document
        .querySelector('#usage-error')
        ?.textContent?.startsWith('Usage could not be loaded: usage-sync is unreachable'),
    );
    assert.equal(await page.getAttribute('#usage-error', 'role'), 'alert');
    await shot('6-unreachable');
  });
});
