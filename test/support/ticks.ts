import { randomUUID } from 'node:crypto';
import { Domain, EventEnvelope, SyncRequestedPayload, tickMessage } from '@sync-hub/contracts';

/** A valid `sync.<domain>.requested.v1` message, as the scheduler or the gateway would publish it. */
export function tick(
  domain: Domain,
  job: string,
  overrides: Partial<SyncRequestedPayload> = {},
): { key: string; value: EventEnvelope<SyncRequestedPayload> } {
  const now = new Date();
  const payload: SyncRequestedPayload = {
    runId: randomUUID(),
    domain,
    job,
    companyId: 1,
    trigger: 'manual',
    scheduledFor: now.toISOString(),
    deadline: new Date(now.getTime() + 3600000).toISOString(),
    ...overrides,
  };
  const { key, value } = tickMessage(payload);
  return { key, value };
}
