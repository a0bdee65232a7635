import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, getRepositoryToken } from '@nestjs/typeorm';
import { APP_CONFIG, loadConfig } from '@sync-hub/config';
import { ReliablePublisher } from '@sync-hub/messaging';
import { JobLeasesService } from '@sync-hub/persistence';
import { SchedulerClock } from '../clock/clock';
import { CompaniesService } from '../companies/companies.service';
import { Schedule } from '../schedules/schedule.entity';
import { SchedulesService } from '../schedules/schedules.service';
import { SettingsService } from '../settings/settings.service';
import { LEASE_RENEWAL_JOB, MINUTE_JOB, SchedulerLoop } from './scheduler-loop.service';

/** The loop with its own timers and the real SchedulerRegistry; the database side is faked (a standby never leads). */
async function loopWith(clock: 'system' | 'manual') {
  let reconciled = 0;
  const moduleRef = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot()],
    providers: [
      SchedulerLoop,
      SchedulerClock,
      { provide: APP_CONFIG, useValue: loadConfig('scheduler', { SCHEDULER_CLOCK: clock }) },
      { provide: getRepositoryToken(Schedule), useValue: {} },
      { provide: getDataSourceToken(), useValue: {} },
      { provide: JobLeasesService, useValue: { acquire: async () => false, release: async () => undefined } },
      { provide: ReliablePublisher, useValue: {} },
      { provide: SettingsService, useValue: {} },
      { provide: CompaniesService, useValue: {} },
      { provide: SchedulesService, useValue: { reconcileRegistry: async () => void reconciled++ } },
    ],
  }).compile();
  await moduleRef.init();
  return { moduleRef, registry: moduleRef.get(SchedulerRegistry), reconciled: () => reconciled };
}

describe('SchedulerLoop timers (@nestjs/schedule)', () => {
  it('with the system clock: the minute loop and the lease renewal are named jobs, gone after shutdown', async () => {
    const { moduleRef, registry, reconciled } = await loopWith('system');
    assert.deepEqual(registry.getIntervals(), [LEASE_RENEWAL_JOB]);
    assert.deepEqual([...registry.getCronJobs().keys()], [MINUTE_JOB]);
    assert.equal(registry.getCronJob(MINUTE_JOB).cronTime.source, '0 * * * * *');
    assert.equal(reconciled(), 1, 'schedules were brought in step with the job registry at start');
    await moduleRef.close();
    assert.deepEqual(registry.getIntervals(), []);
    assert.equal(registry.getCronJobs().size, 0);
  });

  it('with the manual clock: no job at all (POST /__clock drives the steps), the registry is still applied', async () => {
    const { moduleRef, registry, reconciled } = await loopWith('manual');
    assert.deepEqual(registry.getIntervals(), []);
    assert.equal(registry.getCronJobs().size, 0);
    assert.deepEqual(registry.getTimeouts(), []);
    assert.equal(reconciled(), 1);
    await moduleRef.close();
  });
});
