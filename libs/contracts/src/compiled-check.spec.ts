import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainToInstance, Type } from 'class-transformer';
import { IsDefined, IsInt, IsString, ValidateNested, validateSync } from 'class-validator';
import { compiledCheck } from './compiled-check';
import { EventEnvelope } from './envelope';
import { RunEventPayload } from './run-events';
import { SyncRequestedPayload } from './sync-requested';
import { InvalidMessageError, parseEnvelope } from './validation';

const tick = {
  runId: '7d4b5a0e-4a39-4c57-9a55-0f2c4a1b8e11',
  domain: 'splynx',
  job: 'customers',
  companyId: 3,
  scheduleId: 'sch-1',
  trigger: 'schedule',
  scheduledFor: '2026-11-21T06:00:00.000Z',
  deadline: '2026-11-21T07:00:00.000Z',
  params: { full: true },
  overlapPolicy: 'buffer_one',
};
const env = {
  id: '0b8f5a52-8f0e-4df4-8a55-2a5f0c1b9e22',
  type: 'sync.splynx.requested',
  version: 1,
  occurredAt: '2026-11-21T06:00:00.000Z',
  runId: tick.runId,
  payload: tick,
};

/** Every way a field can be wrong, missing or surprising, one at a time, and a few valid variants. */
function payloadCases(): Array<Record<string, unknown>> {
  const odd: unknown[] = [undefined, null, '', 'x', 0, -1, 1.5, 2, true, [], {}, '2026-11-21', 'not-a-uuid'];
  const cases: Array<Record<string, unknown>> = [tick];
  for (const key of Object.keys(tick)) {
    const { [key]: _dropped, ...without } = tick as Record<string, unknown>;
    cases.push(without);
    for (const v of odd) cases.push({ ...tick, [key]: v });
  }
  cases.push({ ...tick, extra: 1 });
  cases.push({ ...tick, domain: 'crm', job: 'customers' }); // a job of another domain
  cases.push({ ...tick, domain: 'crm', job: 'robaws.customers.full' });
  cases.push({ ...tick, domain: 'nowhere', job: 'ping' });
  cases.push({ ...tick, trigger: 'webhook', overlapPolicy: 'allow' });
  cases.push({ ...tick, scheduledFor: '2026-11-21T06:00:00Z', deadline: '2026-11-21 07:00' });
  cases.push(JSON.parse(`{"runId":"${tick.runId}","__proto__":{"polluted":1}}`) as Record<string, unknown>);
  return cases;
}

function envelopeCases(): Array<Record<string, unknown>> {
  const odd: unknown[] = [undefined, null, '', 0, 1, 'sync', [], {}, 'not-a-uuid', '2026-11-21'];
  const cases: Array<Record<string, unknown>> = [env, { ...env, somethingNew: 'kept' }];
  for (const key of Object.keys(env)) {
    const { [key]: _dropped, ...without } = env as Record<string, unknown>;
    cases.push(without);
    for (const v of odd) cases.push({ ...env, [key]: v });
  }
  return cases;
}

const fullyValid = (cls: new () => object, plain: object, strict: boolean) =>
  validateSync(
    plainToInstance(cls, plain),
    strict ? { whitelist: true, forbidNonWhitelisted: true } : { forbidUnknownValues: false },
  ).length === 0;

describe('compiled contract checks', () => {
  it('accept a tick payload exactly when class-validator does, case by case', () => {
    const check = compiledCheck(SyncRequestedPayload, { forbidUnknown: true });
    assert.ok(check, 'the tick payload compiles');
    const cases = payloadCases();
    let valid = 0;
    for (const plain of cases) {
      const expected = fullyValid(SyncRequestedPayload, plain, true);
      assert.equal(check.accept(plain) !== undefined, expected, JSON.stringify(plain));
      if (expected) valid++;
    }
    // The corpus holds both answers, many of each.
    assert.ok(valid >= 5 && cases.length - valid >= 60, `${valid} valid of ${cases.length}`);
  });

  it('accept an envelope exactly when class-validator does, unknown fields allowed as there', () => {
    const check = compiledCheck(EventEnvelope, { forbidUnknown: false });
    assert.ok(check);
    for (const plain of envelopeCases()) {
      assert.equal(check.accept(plain) !== undefined, fullyValid(EventEnvelope, plain, false), JSON.stringify(plain));
    }
  });

  it('parseEnvelope gives the same message on both paths, and class-validator’s reasons when it refuses', () => {
    const parsed = parseEnvelope(structuredClone(env), SyncRequestedPayload);
    assert.ok(parsed.payload instanceof SyncRequestedPayload);
    const full = plainToInstance(SyncRequestedPayload, tick);
    assert.deepEqual({ ...parsed.payload }, { ...full });
    assert.equal(parsed.runId, env.runId);

    assert.throws(
      () => parseEnvelope({ ...env, payload: { ...tick, domain: 'crm' } }, SyncRequestedPayload),
      (err: unknown) =>
        err instanceof InvalidMessageError &&
        err.problems.length === 1 &&
        err.problems[0].startsWith('payload.job: job must be one of robaws.customers.incremental'),
    );
    assert.throws(
      () => parseEnvelope({ ...env, payload: { ...tick, extra: 1 } }, SyncRequestedPayload),
      (err: unknown) =>
        err instanceof InvalidMessageError && err.problems.includes('payload.extra: property extra should not exist'),
    );
  });

  it('leave to the full path what they cannot model: nested contracts, class-transformer types, @IsDefined', () => {
    class Inner {
      @IsInt() n: number;
    }
    class Outer {
      @ValidateNested() @Type(() => Inner) inner: Inner;
    }
    class Defined {
      @IsDefined() @IsString() s: string;
    }
    assert.equal(compiledCheck(RunEventPayload, { forbidUnknown: true }), null);
    assert.equal(compiledCheck(Outer, { forbidUnknown: true }), null);
    assert.equal(compiledCheck(Defined, { forbidUnknown: true }), null);
    assert.equal(compiledCheck(class Bare {}, { forbidUnknown: true }), null);
  });
});
