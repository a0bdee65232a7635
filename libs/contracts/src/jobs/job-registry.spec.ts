import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOBS_BY_DOMAIN } from '../topics';
import { JOB_REGISTRY } from './job-registry';

describe('the job registry', () => {
  it("declares only jobs of its domain's vocabulary: a tick of a registered job is never refused as unknown", () => {
    const outside = JOB_REGISTRY.filter((d) => !JOBS_BY_DOMAIN[d.domain].includes(d.job)).map(
      (d) => `${d.domain}/${d.job}`,
    );
    assert.deepEqual(outside, []);
  });

  it('declares each job once', () => {
    const names = JOB_REGISTRY.map((d) => `${d.domain}/${d.job}`);
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
    );
  });
});
