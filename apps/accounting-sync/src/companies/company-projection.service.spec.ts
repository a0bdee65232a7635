import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ConfigurationError, SyncRequestedPayload } from '@sync-hub/contracts';
import { DataSource } from 'typeorm';
import { inMemoryDatabase } from '../../../../test/support/sqlite';
import { awaitCompany } from '../jobs/document-jobs';
import { CompanyProjection } from './company-projection.entity';
import { CompanyProjectionService } from './company-projection.service';

const company = (id: number) => ({
  id,
  name: `Company ${id}`,
  timezone: 'Europe/Tirane',
  active: true,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
});

/** A run's tick can beat its company's own event: runs wait for the projection, for a while (SQLite). */
describe('CompanyProjectionService.awaitKnown and the document jobs (SQLite)', () => {
  let db: DataSource;
  let companies: CompanyProjectionService;
  const live = () => new AbortController().signal;

  before(async () => {
    db = await inMemoryDatabase([CompanyProjection]);
    companies = new CompanyProjectionService(db.getRepository(CompanyProjection));
    await companies.apply(company(1));
  });

  after(() => db.destroy());

  it('answers a known company at once', async () => {
    const found = await companies.awaitKnown(1, live(), 60_000);
    assert.equal(found?.name, 'Company 1');
  });

  it('waits for a company whose event comes during the wait, and answers it', async () => {
    const waiting = companies.awaitKnown(2, live(), 10_000, 20);
    await sleep(100);
    await companies.apply(company(2));
    const found = await waiting;
    assert.equal(found?.id, 2);
    assert.equal(found?.timezone, 'Europe/Tirane');
  });

  it('answers null once the wait is over and the company never came', async () => {
    assert.equal(await companies.awaitKnown(99, live(), 150, 20), null);
  });

  it('stops waiting when the run is cancelled', async () => {
    const cancel = new AbortController();
    const waiting = companies.awaitKnown(98, cancel.signal, 60_000, 20);
    setTimeout(() => cancel.abort(new Error('run cancelled')), 50);
    await assert.rejects(waiting, /run cancelled/);
  });

  it('a document run for a company that never came fails COMPANY_UNKNOWN, naming the company and the event', async () => {
    const tick = { companyId: 97 } as SyncRequestedPayload;
    await assert.rejects(awaitCompany(companies, { tick, signal: live() }, 100), (err: unknown) => {
      assert.ok(err instanceof ConfigurationError);
      assert.equal(err.code, 'COMPANY_UNKNOWN');
      assert.match(err.message, /company 97 is unknown to accounting-sync \(no scheduler\.company\.changed\.v1/);
      return true;
    });
    await awaitCompany(companies, { tick: { companyId: 1 } as SyncRequestedPayload, signal: live() }, 100);
  });
});
