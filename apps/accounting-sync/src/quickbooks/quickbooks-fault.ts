import { UpstreamError, UpstreamHttpError } from '@sync-hub/http';

/** One error of a QuickBooks Fault, whichever case Intuit answered in (`Fault.Error[]` or lowercase `fault.error[]`). */
export interface QuickBooksFaultError {
  code: string;
  message: string;
  detail: string;
  element: string | null;
}

/**
 * A Fault QuickBooks answered (../shared/reference/upstream-apis.md section 2): its type, its errors, and the
 * `intuit_tid` to quote to Intuit. Business faults (ValidationFault, 400) belong to one document; the rest to the run.
 */
export class QuickBooksFault extends UpstreamError {
  readonly code: string;
  readonly retriable: boolean;
  constructor(
    readonly status: number,
    readonly type: string,
    readonly errors: QuickBooksFaultError[],
    readonly intuitTid: string | null,
  ) {
    const first = errors[0];
    super(
      'quickbooks',
      `${type} ${first ? `${first.code} ${first.message}${first.detail ? `: ${first.detail}` : ''}` : `HTTP ${status}`}`,
    );
    this.name = 'QuickBooksFault';
    this.retriable = status === 429 || status >= 500;
    // An outage or a throttle is classified as for every upstream (its fault code stays in the message); the rest by
    // QuickBooks' own code, which is what an operator looks up.
    this.code =
      status === 429
        ? 'UPSTREAM_RATE_LIMITED'
        : status >= 500
          ? 'UPSTREAM_UNAVAILABLE'
          : first
            ? `QBO_${first.code}`
            : `UPSTREAM_HTTP_${status}`;
  }

  /** Whether any error has this QuickBooks code (610 not found, 5010 stale, 6240 duplicate name, …). */
  has(code: string): boolean {
    return this.errors.some((e) => e.code === code);
  }

  get validation(): boolean {
    return this.status === 400 && /validation/i.test(this.type);
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Reads a Fault body in either case; null when the body is not one. */
export function readFault(body: unknown): { type: string; errors: QuickBooksFaultError[] } | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const fault = (b.Fault ?? b.fault) as Record<string, unknown> | undefined;
  if (!fault || typeof fault !== 'object') return null;
  const list = (fault.Error ?? fault.error) as Array<Record<string, unknown>> | undefined;
  return {
    type: str(fault.type),
    errors: (Array.isArray(list) ? list : []).map((e) => ({
      code: str(e.code),
      message: str(e.Message ?? e.message),
      detail: str(e.Detail ?? e.detail),
      element: str(e.element) || null,
    })),
  };
}

/** An HTTP error of the API as a QuickBooksFault when its body is one (status and intuit_tid kept). */
export function asQuickBooksFault(err: unknown): unknown {
  if (!(err instanceof UpstreamHttpError)) return err;
  const fault = readFault(err.body);
  const tid = err.headers.intuit_tid;
  return fault
    ? new QuickBooksFault(err.status, fault.type, fault.errors, (Array.isArray(tid) ? tid[0] : tid) ?? null)
    : err;
}
