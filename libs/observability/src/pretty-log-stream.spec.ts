import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prettyMessage } from './pretty-log-stream';

describe('prettyMessage (the readable log line)', () => {
  it('puts the class in brackets before the message', () => {
    assert.equal(
      prettyMessage({ context: 'RoutesResolver', msg: 'GatewayModule {/api}' }),
      '[RoutesResolver] GatewayModule {/api}',
    );
    assert.equal(prettyMessage({ msg: 'no context' }), 'no context');
  });

  it("keeps a run's id, domain and job on the line, so a run can still be followed with grep", () => {
    const line = prettyMessage({
      context: 'RunExecutor',
      msg: 'run completed',
      runId: '0b7c9d1e-0000-4000-8000-000000000001',
      domain: 'splynx',
      job: 'customers',
    });
    assert.equal(
      line,
      '[RunExecutor] run completed  runId=0b7c9d1e-0000-4000-8000-000000000001 domain=splynx job=customers',
    );
  });

  it('shows a request as method, url, status and time instead of the request object', () => {
    const line = prettyMessage({
      msg: 'request completed',
      req: { id: 1, method: 'GET', url: '/api/runs?limit=20', headers: {} },
      res: { statusCode: 200 },
      responseTime: 7,
    });
    assert.equal(line, 'request completed  GET /api/runs?limit=20 200 7ms');
  });

  it('dims the run fields through the given colour only', () => {
    const line = prettyMessage({ msg: 'm', runId: 'r1' }, 'msg', (t) => `<${t}>`);
    assert.equal(line, 'm  <runId=r1>');
  });
});
