import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Topic } from '@sync-hub/contracts';
import { BusMessage, InProcessBus, InProcessEventPublisher, ReliablePublisher } from '@sync-hub/messaging';
import { OutboxMessage } from '@sync-hub/persistence';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { Setting } from './setting.entity';
import { SETTINGS, SettingsService, UnknownSettingError, USAGE_INTERVAL_SETTING } from './settings.service';

describe('the usage interval setting (seed 004)', () => {
  const effective = (v: unknown) => SETTINGS[USAGE_INTERVAL_SETTING].effective(v);

  it('defaults to 5 and keeps integers in [1, 5]', () => {
    assert.equal(SETTINGS[USAGE_INTERVAL_SETTING].default, 5);
    for (const n of [1, 2, 3, 4, 5]) assert.equal(effective(n), n);
  });

  it('clamps: 0 becomes 1, 10 becomes 5, negatives become 1; integer text counts', () => {
    assert.equal(effective(0), 1);
    assert.equal(effective(10), 5);
    assert.equal(effective(-3), 1);
    assert.equal(effective('3'), 3);
    assert.equal(effective(' 7 '), 5);
  });

  it('falls back to 5 for anything that is not an integer', () => {
    for (const v of [2.5, '2.5', 'abc', '', null, undefined, true, [], {}, Number.NaN])
      assert.equal(effective(v), 5, JSON.stringify(v));
  });
});

/** The service on SQLite and the in-process bus, as in the embedded mode. */
describe('SettingsService: scheduler.setting.changed.v1 through the outbox', () => {
  let db: DataSource;
  let settings: SettingsService;
  let bus: InProcessBus;
  const events: BusMessage[] = [];
  const eventsSince = async (n: number) => (await bus.drain(), events.slice(n));
  const AUTO_PAUSE = 'notifications.auto_pause_after';

  before(async () => {
    db = await inMemoryDatabase([Setting]);
    bus = new InProcessBus();
    bus.subscribe(Topic.SettingChanged, async (m) => void events.push(m));
    const publisher = new InProcessEventPublisher(bus);
    settings = new SettingsService(
      db.getRepository(Setting),
      db,
      new ReliablePublisher(publisher, db.getRepository(OutboxMessage)),
    );
  });

  it('set stores the setting and publishes it, keyed by the setting key, with its effective value', async () => {
    const answer = await settings.set(AUTO_PAUSE, 5000);
    assert.deepEqual(answer, { key: AUTO_PAUSE, value: 5000, effective_value: 1000 });
    const [event] = await eventsSince(0);
    assert.equal(event.key, AUTO_PAUSE);
    const value = event.value as { type: string; payload: unknown };
    assert.equal(value.type, 'scheduler.setting.changed');
    assert.deepEqual(value.payload, { key: AUTO_PAUSE, value: 5000, effectiveValue: 1000 });
    assert.equal((await db.getRepository(Setting).findOneByOrFail({ key: AUTO_PAUSE })).value, '5000');
    assert.equal(
      await db.getRepository(OutboxMessage).count(),
      0,
      'sent (and removed from the outbox) after the commit',
    );
  });

  it('an unknown key writes nothing and publishes nothing', async () => {
    const before = events.length;
    await assert.rejects(settings.set('no.such.setting', 1), UnknownSettingError);
    assert.equal((await eventsSince(before)).length, 0);
    assert.equal(await db.getRepository(Setting).countBy({ key: 'no.such.setting' }), 0);
  });

  it('republishAll publishes every known setting: the stored value, or the default', async () => {
    const before = events.length;
    assert.equal(await settings.republishAll(), Object.keys(SETTINGS).length);
    const payloads = new Map(
      (await eventsSince(before)).map((m) => [m.key, (m.value as { payload: unknown }).payload]),
    );
    assert.deepEqual(payloads.get(AUTO_PAUSE), { key: AUTO_PAUSE, value: 5000, effectiveValue: 1000 });
    assert.deepEqual(payloads.get(USAGE_INTERVAL_SETTING), {
      key: USAGE_INTERVAL_SETTING,
      value: 5,
      effectiveValue: 5,
    });
  });
});
