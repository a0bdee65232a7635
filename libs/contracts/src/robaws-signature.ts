// The `Robaws-Signature: t=<unix seconds>,v1=<hex>` check of a webhook delivery (upstream reference, section 3):
// v1 = hex(HMAC-SHA256(endpoint secret, t + "." + raw body)). The raw body matters: re-serialised JSON would not
// match. The timestamp bounds replays of a captured delivery to the tolerance window.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const ROBAWS_SIGNATURE_HEADER = 'Robaws-Signature';
/** Beconnect and RobawsProxy both allow 300 s between the signing and the check, in either direction. */
export const ROBAWS_SIGNATURE_TOLERANCE_SECONDS = 300;

export type RobawsSignatureFailure = 'missing_header' | 'malformed' | 'stale' | 'mismatch';

export type RobawsSignatureResult =
  { ok: true; timestamp: number } | { ok: false; reason: RobawsSignatureFailure; message: string };

export interface ParsedRobawsSignature {
  timestamp: number;
  /** Every v1 value in the header: a sender rotating its secret may send one per secret. */
  signatures: string[];
}

/** The header's `t` and `v1` parts, or null when the header does not have one valid `t` and at least one hex `v1`. */
export function parseRobawsSignature(header: string): ParsedRobawsSignature | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) return null;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return null;
      signatures.push(value.toLowerCase());
    }
    // Other schemes (a future v2) are ignored, as they would be by a Stripe-style verifier.
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}

function digest(secret: string, timestamp: number, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
}

/** The header value Robaws would send for this body at `timestamp` (Unix seconds): for tests and the simulator. */
export function signRobawsPayload(secret: string, rawBody: Buffer | string, timestamp: number): string {
  return `t=${timestamp},v1=${digest(secret, timestamp, rawBody).toString('hex')}`;
}

export interface VerifyRobawsSignatureOptions {
  /** The header's value as received; undefined or empty when the request had none. */
  header: string | string[] | undefined;
  /** The body bytes exactly as received. */
  rawBody: Buffer | string;
  secret: string;
  /** Milliseconds since the epoch; injectable so that tests need no real waiting. */
  now?: () => number;
  toleranceSeconds?: number;
}

/**
 * Whether a delivery is authentic and fresh. The HMAC is compared in constant time; a stale timestamp is reported
 * only for a correctly signed delivery, so `stale` means a genuine but old (or replayed) one. The reasons name
 * what failed without echoing the header or the expected value.
 */
export function verifyRobawsSignature(options: VerifyRobawsSignatureOptions): RobawsSignatureResult {
  if (options.secret === '') throw new Error('verifyRobawsSignature: the webhook secret is empty');
  const header = Array.isArray(options.header) ? options.header[0] : options.header;
  if (header === undefined || header.trim() === '')
    return { ok: false, reason: 'missing_header', message: `no ${ROBAWS_SIGNATURE_HEADER} header` };
  const parsed = parseRobawsSignature(header);
  if (parsed === null)
    return {
      ok: false,
      reason: 'malformed',
      message: `${ROBAWS_SIGNATURE_HEADER} is not "t=<unix seconds>,v1=<64 hex digits>"`,
    };
  const expected = digest(options.secret, parsed.timestamp, options.rawBody);
  // Check every v1 value, not just until the first match, so the time taken does not depend on which one matched.
  let matched = false;
  for (const signature of parsed.signatures) {
    if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) matched = true;
  }
  if (!matched) return { ok: false, reason: 'mismatch', message: 'the signature does not match the body' };
  const tolerance = options.toleranceSeconds ?? ROBAWS_SIGNATURE_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  const skew = Math.abs(nowSeconds - parsed.timestamp);
  if (skew > tolerance)
    return {
      ok: false,
      reason: 'stale',
      message: `the signature's timestamp is ${skew} s away from now (at most ${tolerance} s allowed)`,
    };
  return { ok: true, timestamp: parsed.timestamp };
}
