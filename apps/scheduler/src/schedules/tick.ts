import { Domain, scheduledParams, SyncRequestedPayload } from '@sync-hub/contracts';
import { Cadence, nextRunAfter } from './next-run';
import type { Schedule } from './schedule.entity';

/** A deadline past which a tick is stale: its next slot, and never sooner than a minute from publishing. */
export function tickDeadline(cadence: Cadence, slot: Date, publishedAt: Date): Date {
  return new Date(Math.max(nextRunAfter(cadence, slot).getTime() - 1000, publishedAt.getTime() + 60000));
}

/** The tick of one schedule for one slot: what `sync.<domain>.requested.v1` carries. */
export function tickOf(
  s: Schedule,
  runId: string,
  slot: Date,
  deadline: Date,
  trigger: 'schedule' | 'manual',
): SyncRequestedPayload {
  const params = scheduledParams(s.domain, s.jobType, s);
  return {
    runId,
    domain: s.domain as Domain,
    job: s.jobType,
    companyId: s.companyId,
    scheduleId: String(s.id),
    trigger,
    scheduledFor: slot.toISOString(),
    deadline: deadline.toISOString(),
    ...(params ? { params } : {}),
    overlapPolicy: s.overlapPolicy,
  };
}
