import { declareJob } from './job-declaration';

/**
 * Daily, per company (issue 9): refreshes QuickBooks tokens that have not been refreshed for a week (so a refresh token
 * never lapses through disuse), proves each connection with one API call, warns when a refresh token expires within 14
 * days, and fails as a `config` error when a connection needs a person (reauth_required).
 */
export const ACCOUNTING_CONNECTIONS_CHECK = declareJob({
  domain: 'accounting',
  job: 'accounting.connections.check',
  description:
    "checks the company's QuickBooks and DevPos connections: refreshes idle tokens, warns before a refresh token lapses",
  leaseMs: 60_000,
  timeLimitMs: 15 * 60_000,
  retries: 2,
});
