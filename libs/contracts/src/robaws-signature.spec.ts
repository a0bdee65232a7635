import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseRobawsSignature, signRobawsPayload, verifyRobawsSignature } from './robaws-signature';

const secret = 'whsec-test-1';
const body =
  '{"id":"37de8552-0007-4269-a76c-06a9415c8b65","event":"client.updated","data":{"id":3473,"name":"222 CARS"}}';
const t = 1674742714;
const at = (seconds: number) => () => seconds * 1000;

describe('signRobawsPayload', () => {
  it('signs t + "." + body with HMAC-SHA256 in hex, as the reference describes', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    assert.equal(signRobawsPayload(secret, body, t), `t=${t},v1=${expected}`);
    assert.equal(signRobawsPayload(secret, Buffer.from(body), t), `t=${t},v1=${expected}`, 'bytes or text alike');
  });
});

describe('parseRobawsSignature', () => {
  it('reads t and every v1, in any order and with spaces', () => {
    const v1 = 'a'.repeat(64);
    const v1b = 'B'.repeat(64);
    assert.deepEqual(parseRobawsSignature(`v1=${v1}, t=${t} ,v1=${v1b}`), {
      timestamp: t,
      signatures: [v1, 'b'.repeat(64)],
    });
    assert.deepEqual(parseRobawsSignature(`t=${t},v0=xyz,v1=${v1}`)?.signatures, [v1], 'other schemes ignored');
  });

  it('rejects headers without a usable t or v1', () => {
    const v1 = 'a'.repeat(64);
    for (const header of [
      'garbage',
      `t=${t}`,
      `v1=${v1}`,
      `t=soon,v1=${v1}`,
      `t=-5,v1=${v1}`,
      `t=${t},t=${t},v1=${v1}`,
      `t=${t},v1=${'a'.repeat(63)}`,
      `t=${t},v1=${'g'.repeat(64)}`,
      `t=${t};v1=${v1}`,
    ])
      assert.equal(parseRobawsSignature(header), null, header);
  });
});

describe('verifyRobawsSignature', () => {
  const header = signRobawsPayload(secret, body, t);

  it('accepts a correctly signed, fresh delivery', () => {
    assert.deepEqual(verifyRobawsSignature({ header, rawBody: body, secret, now: at(t + 10) }), {
      ok: true,
      timestamp: t,
    });
    assert.equal(verifyRobawsSignature({ header: [header], rawBody: Buffer.from(body), secret, now: at(t) }).ok, true);
  });

  it('accepts a header with several v1 values when one matches (secret rotation)', () => {
    const other = signRobawsPayload('old-secret', body, t).split(',')[1];
    const result = verifyRobawsSignature({ header: `${header},${other}`, rawBody: body, secret, now: at(t) });
    assert.equal(result.ok, true);
  });

  it('reports a missing header', () => {
    for (const missing of [undefined, '', '  ', []]) {
      const result = verifyRobawsSignature({ header: missing, rawBody: body, secret, now: at(t) });
      assert.equal(result.ok === false && result.reason, 'missing_header', JSON.stringify(missing));
    }
  });

  it('reports a malformed header', () => {
    const result = verifyRobawsSignature({ header: 'sha256=abc', rawBody: body, secret, now: at(t) });
    assert.equal(result.ok === false && result.reason, 'malformed');
  });

  it('reports a signature made with another secret', () => {
    const forged = signRobawsPayload('guessed', body, t);
    const result = verifyRobawsSignature({ header: forged, rawBody: body, secret, now: at(t) });
    assert.equal(result.ok === false && result.reason, 'mismatch');
  });

  it("reports another body under a captured delivery's signature (replay with a changed body)", () => {
    const tampered = body.replace('222 CARS', '333 CARS');
    const result = verifyRobawsSignature({ header, rawBody: tampered, secret, now: at(t) });
    assert.equal(result.ok === false && result.reason, 'mismatch');
    const reformatted = JSON.stringify(JSON.parse(body), null, 1);
    assert.equal(
      verifyRobawsSignature({ header, rawBody: reformatted, secret, now: at(t) }).ok,
      false,
      're-serialised',
    );
  });

  it('reports a changed timestamp with the old signature as a mismatch', () => {
    const v1 = header.split(',')[1];
    const result = verifyRobawsSignature({ header: `t=${t + 60},${v1}`, rawBody: body, secret, now: at(t + 60) });
    assert.equal(result.ok === false && result.reason, 'mismatch');
  });

  it('reports a timestamp more than 300 s away, in either direction, as stale', () => {
    for (const now of [t + 301, t - 301, t + 86_400]) {
      const result = verifyRobawsSignature({ header, rawBody: body, secret, now: at(now) });
      assert.equal(result.ok === false && result.reason, 'stale', `now = t ${now - t > 0 ? '+' : ''}${now - t}`);
    }
    for (const now of [t + 300, t - 300])
      assert.equal(verifyRobawsSignature({ header, rawBody: body, secret, now: at(now) }).ok, true, `${now - t}`);
  });

  it('takes another tolerance when given one', () => {
    const result = verifyRobawsSignature({ header, rawBody: body, secret, now: at(t + 31), toleranceSeconds: 30 });
    assert.equal(result.ok === false && result.reason, 'stale');
  });

  it('uses the real clock by default', () => {
    const now = Math.floor(Date.now() / 1000);
    assert.equal(
      verifyRobawsSignature({ header: signRobawsPayload(secret, body, now), rawBody: body, secret }).ok,
      true,
    );
    assert.equal(verifyRobawsSignature({ header, rawBody: body, secret }).ok, false, 'a 2023 delivery is stale now');
  });

  it('does not put the secret or the expected signature in its messages', () => {
    const forged = signRobawsPayload('guessed', body, t);
    const expected = header.split('v1=')[1];
    for (const result of [
      verifyRobawsSignature({ header: forged, rawBody: body, secret, now: at(t) }),
      verifyRobawsSignature({ header, rawBody: body, secret, now: at(t + 1000) }),
    ]) {
      assert.equal(result.ok, false);
      if (result.ok) continue;
      assert.ok(!result.message.includes(secret) && !result.message.includes(expected), result.message);
    }
  });

  it('refuses to check with an empty secret', () => {
    assert.throws(() => verifyRobawsSignature({ header, rawBody: body, secret: '', now: at(t) }), /secret is empty/);
  });
});
