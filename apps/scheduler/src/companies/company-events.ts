import { companyChangedMessage, CompanyChangedPayload } from '@sync-hub/contracts';
import type { Company } from './company.entity';

/** The whole row as `scheduler.company.changed.v1` carries it. */
export function companyChangedPayload(c: Company): CompanyChangedPayload {
  return {
    id: c.id,
    name: c.name,
    timezone: c.timezone,
    active: !!c.active,
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

/** The outbox rows for changed companies (no tombstones: companies are deactivated, never deleted). */
export function companyEvents(changed: Company[]) {
  return changed.map((c) => companyChangedMessage(companyChangedPayload(c)));
}
