import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, getRepositoryToken } from '@nestjs/typeorm';
import { ScheduleProjectionService } from '../scheduler/schedule-projection.service';
import { SchedulerClient } from '../scheduler/scheduler.client';
import { SettingProjectionService } from '../scheduler/setting-projection.service';
import { NotificationChannels } from './channels';
import { Notification } from './notification.entities';
import { NotificationsService, retryDelayMs, SEND_JOB } from './notifications.service';

describe('notification retries', () => {
  it('wait 10 s after the first failure, doubling, at most 10 minutes (cockatiel exponential backoff)', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelayMs),
      [10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000],
    );
  });

  it('the send loop is the named job notifications.send in the SchedulerRegistry, stopped on shutdown', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot()],
      providers: [
        NotificationsService,
        { provide: getDataSourceToken(), useValue: {} },
        { provide: getRepositoryToken(Notification), useValue: { find: async () => [] } },
        { provide: NotificationChannels, useValue: {} },
        { provide: SchedulerClient, useValue: {} },
        { provide: ScheduleProjectionService, useValue: {} },
        { provide: SettingProjectionService, useValue: {} },
      ],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get(SchedulerRegistry);
    assert.deepEqual(registry.getIntervals(), [SEND_JOB]);
    await moduleRef.close();
    assert.deepEqual(registry.getIntervals(), []);
  });
});
