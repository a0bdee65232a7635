import { RunError, RunEventPayload } from '@sync-hub/contracts';
import type { NotificationKind } from './notification.entities';

export interface NotificationMessage {
  kind: NotificationKind;
  subject: string;
  text: string;
  domain: string;
  job: string;
  company_id: number;
  run_id: string;
  error: RunError | null;
  /** The run's warnings (a `warning` notification); empty for the other kinds. */
  warnings: string[];
  last_success_at: string | null;
  consecutive_failures: number;
  action: string;
}

/** The upstream failure classes of libs/http, each with what it means for the operator (docs/operations.md). */
const UPSTREAM_ADVICE: Record<string, (domain: string) => string> = {
  UPSTREAM_TIMEOUT: (d) =>
    `The ${d} API did not answer in time, on every attempt; the next scheduled run retries. If it persists, check the ${d} service status and the network path to it.`,
  UPSTREAM_RATE_LIMITED: (d) =>
    `The ${d} API kept refusing us for too many requests (429) after every retry; the next scheduled run retries. If it persists, run the job less often or at another time, and check what else uses the same API key.`,
  UPSTREAM_UNAVAILABLE: (d) =>
    `The ${d} API answered server errors (5xx) on every attempt; the next scheduled run retries. If it persists, check the ${d} service status.`,
  UPSTREAM_UNREACHABLE: (d) =>
    `The ${d} API could not be reached; the next scheduled run retries. If it persists, check its URL, DNS and the network path to it.`,
  UPSTREAM_BAD_RESPONSE: (d) =>
    `The ${d} API answered something we cannot read (cut off or not the expected JSON); the next scheduled run retries. If it persists, report it to the provider with the run id.`,
};

/** What an operator should do about an error, by where it came from and what it was. */
export function adviceFor(error: RunError | null | undefined, domain: string): string {
  if (!error) return 'Nothing: the job succeeded again.';
  if (
    error.code === 'UPSTREAM_AUTH_REJECTED' ||
    error.code === 'TOKEN_REFRESH_REJECTED' ||
    error.code === 'REAUTH_REQUIRED'
  ) {
    return domain === 'accounting'
      ? 'Re-authorise the QuickBooks connection of this company: the upstream refused the stored credentials.'
      : `Check the ${domain} API credentials in the configuration: the upstream refused them.`;
  }
  if (error.origin === 'config')
    return 'Fix the configuration named in the error; retrying as it is will fail the same way.';
  const upstream = UPSTREAM_ADVICE[error.code];
  if (error.origin === 'source' && upstream) return upstream(domain);
  if (error.origin === 'source') {
    return error.retriable
      ? `The ${domain} API is unavailable or limiting us; the next scheduled run retries. If it persists, check the ${domain} service status.`
      : `The ${domain} API refused the request; check the error and the upstream data.`;
  }
  if (error.origin === 'destination')
    return 'The database refused the write: check the database (space, connectivity, the failing row).';
  return 'An internal error: report it with the run id.';
}

export const WARNING_ADVICE = 'Act on each warning before it becomes a failure.';

/** How many warnings a run had: its list, whose last entry may stand for more ("… and N more", from the run library). */
export function warningCount(warnings: string[]): number {
  const more = /^… and (\d+) more$/.exec(warnings[warnings.length - 1] ?? '');
  return more ? warnings.length - 1 + Number(more[1]) : warnings.length;
}

export function notificationMessage(
  kind: NotificationKind,
  e: RunEventPayload,
  state: { lastSuccessAt: Date | null; consecutiveFailures: number },
  pausedAfter?: number,
): NotificationMessage {
  const what = `${e.domain}/${e.job} (company ${e.companyId})`;
  const lastSuccess = state.lastSuccessAt ? state.lastSuccessAt.toISOString() : null;
  const warnings = kind === 'warning' ? (e.warnings ?? []) : [];
  const count = warningCount(warnings);
  const warned = `${count} warning${count === 1 ? '' : 's'}`;
  const subject =
    kind === 'failure'
      ? `[sync hub] ${what} failed`
      : kind === 'recovery'
        ? `[sync hub] ${what} recovered`
        : kind === 'warning'
          ? `[sync hub] ${what} completed with ${warned}`
          : `[sync hub] ${what} paused after ${pausedAfter} failures`;
  const action =
    kind === 'recovery'
      ? 'Nothing: the job succeeded again.'
      : kind === 'warning'
        ? WARNING_ADVICE
        : kind === 'paused'
          ? `The schedule is paused. ${adviceFor(e.error, e.domain)} Then enable the schedule again.`
          : adviceFor(e.error, e.domain);
  const lines = [
    kind === 'failure'
      ? `The ${what} sync failed.`
      : kind === 'recovery'
        ? `The ${what} sync succeeded again.`
        : kind === 'warning'
          ? `The ${what} sync completed with ${warned}:`
          : `The ${what} sync failed ${pausedAfter} times in a row; its schedule is paused.`,
    ...warnings.map((w) => `- ${w}`),
    '',
    `Run: ${e.runId} (trigger ${e.trigger})`,
    ...(e.error
      ? [`Error: ${e.error.origin}/${e.error.code}${e.error.retriable ? ' (retriable)' : ''}: ${e.error.message}`]
      : []),
    `Last success: ${lastSuccess ?? 'never'}`,
    `Consecutive failures: ${state.consecutiveFailures}`,
    '',
    `What to do: ${action}`,
  ];
  return {
    kind,
    subject,
    text: lines.join('\n'),
    domain: e.domain,
    job: e.job,
    company_id: e.companyId,
    run_id: e.runId,
    error: e.error ?? null,
    warnings,
    last_success_at: lastSuccess,
    consecutive_failures: state.consecutiveFailures,
    action,
  };
}
