import { Logger } from '@nestjs/common';
import { UpstreamHttpError } from '@sync-hub/http';
import type { PanelCredentials, PanelType } from '../model/usage.entities';

/** What an adapter reads a config's usage with. */
export interface UsageTarget {
  configId: number;
  externalUsername: string;
  panelUserId: string | null;
}

/** A panel as its adapter needs it: credentials opened, settings parsed. */
export interface PanelTarget {
  id: number;
  name: string;
  type: PanelType;
  url: string;
  credentials: PanelCredentials;
  settings: Record<string, unknown>;
}

/**
 * Whose a hard failure is: the panel's (unreachable, a 5xx, refused credentials: every config of it would fail alike,
 * so the job's circuit breaker counts it) or the config's alone (an unknown user: the panel answered).
 */
export type FailureScope = 'panel' | 'config';

/**
 * One config's reading: the bytes and the field they came from; a hard failure (HTTP or network error, bad
 * credentials, unknown user: the previous usage is kept, never replaced by 0); or skipped (no call made).
 */
export type UsageReading =
  | { status: 'ok'; bytes: number; sourceField: string }
  | { status: 'hard_failure'; error: string; scope: FailureScope }
  | { status: 'skipped'; reason: string };

/**
 * A reading as it can be stored: usage_bytes is a whole number of bytes. A panel that answers a fraction (a float in a
 * JSON number) is rounded; one beyond 2^53 is that config's hard failure, never a failed batch or a wrong number.
 */
export function wholeBytes(reading: UsageReading): UsageReading {
  if (reading.status !== 'ok' || Number.isSafeInteger(reading.bytes)) return reading;
  const bytes = Math.round(reading.bytes);
  if (Number.isSafeInteger(bytes)) return { ...reading, bytes };
  return {
    status: 'hard_failure',
    error: `usage ${reading.bytes} (${reading.sourceField}) is not a byte count that can be stored`,
    scope: 'config',
  };
}

/** Whether the panel answered the reading's request (a usage, or a config's own failure such as an unknown user). */
export function panelAnswered(reading: UsageReading): boolean {
  return reading.status === 'ok' || (reading.status === 'hard_failure' && reading.scope === 'config');
}

/** One panel type's client (seed 004's `fetchConfigUsage`): the job and the diagnostic command call the same code. */
export interface PanelAdapter {
  readonly type: PanelType;
  read(config: UsageTarget): Promise<UsageReading>;
  /** The issue's interface: the bytes, or null for a hard failure or a skip. */
  usageBytes(config: UsageTarget): Promise<number | null>;
  close(): Promise<void>;
}

/** At most 200 characters of a body, with every secret of the panel cut out, for a failure's log line. */
export function bodyPreview(body: unknown, secrets: Array<string | undefined>): string {
  let text = typeof body === 'string' ? body : body === undefined || body === null ? '' : JSON.stringify(body);
  for (const secret of secrets) if (secret && secret.length >= 4) text = text.split(secret).join('[redacted]');
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

/** The base of the adapters: `usageBytes` from `read`, and the failure's message and log line. */
export abstract class BaseAdapter implements PanelAdapter {
  abstract readonly type: PanelType;
  protected abstract readonly logger: Logger;

  constructor(protected readonly panel: PanelTarget) {}

  abstract read(config: UsageTarget): Promise<UsageReading>;
  abstract close(): Promise<void>;

  async usageBytes(config: UsageTarget): Promise<number | null> {
    const reading = await this.read(config);
    return reading.status === 'ok' ? reading.bytes : null;
  }

  protected secrets(): Array<string | undefined> {
    const c = this.panel.credentials;
    return [c.password, c.apiKey, c.apiToken];
  }

  /**
   * A request's failure as a hard failure: logged with status, username and a body preview (no secret). A 404 is the
   * user's (unknown to the panel); anything else is the panel's unless `scope` says otherwise.
   */
  protected failure(label: string, username: string, err: unknown, scope?: FailureScope): UsageReading {
    const status = err instanceof UpstreamHttpError ? err.status : null;
    const preview = err instanceof UpstreamHttpError ? bodyPreview(err.body, this.secrets()) : '';
    const reason = status !== null ? `HTTP ${status}` : ((err as Error)?.message ?? String(err));
    this.logger.warn(
      { status, username, body_preview: preview, panel_id: this.panel.id },
      `${label} failed: (status: ${status ?? 'none'}, username: ${username}, body_preview: ${preview})`,
    );
    return {
      status: 'hard_failure',
      error: `${this.panel.type} panel ${this.panel.name}: ${reason}${preview ? ` ${preview}` : ''}`,
      scope: scope ?? (status === 404 ? 'config' : 'panel'),
    };
  }
}
