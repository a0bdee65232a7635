import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArgumentsHost, BadRequestException, NotFoundException } from '@nestjs/common';
import { ApiExceptionFilter } from './exception.filter';

function respond(exception: unknown): { status: number; body: Record<string, unknown> } {
  const out = { status: 0, body: {} as Record<string, unknown> };
  const res = {
    status: (s: number) => ((out.status = s), res),
    json: (b: Record<string, unknown>) => ((out.body = b), res),
  };
  const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new ApiExceptionFilter().catch(exception, host);
  return out;
}

describe('ApiExceptionFilter', () => {
  it('keeps the status and body of known errors', () => {
    assert.deepEqual(respond(new NotFoundException('schedule 9 not found')), {
      status: 404,
      body: { message: 'schedule 9 not found', error: 'Not Found', statusCode: 404 },
    });
    const bad = respond(new BadRequestException({ statusCode: 400, message: ['x: y'], fields: { x: ['y'] } }));
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.fields, { x: ['y'] });
  });

  it('answers anything else with 500, a correlation id and no stack or internal message', () => {
    const err = new Error('ER_ACCESS_DENIED_ERROR: Access denied for user root@10.0.0.5 (password: YES)');
    const { status, body } = respond(err);
    assert.equal(status, 500);
    assert.match(String(body.correlationId), /^[0-9a-f-]{36}$/);
    const text = JSON.stringify(body);
    assert.doesNotMatch(text, /ER_ACCESS_DENIED|10\.0\.0\.5|at \w+ \(/);
  });
});
