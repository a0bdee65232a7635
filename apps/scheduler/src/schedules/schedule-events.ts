import {
  Domain,
  scheduleChangedMessage,
  ScheduleChangedPayload,
  scheduleDeletedMessage,
  Topic,
} from '@sync-hub/contracts';
import type { OutgoingMessage } from '@sync-hub/messaging';
import type { Schedule } from './schedule.entity';

const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

/** The whole row as `scheduler.schedule.changed.v1` carries it. */
export function scheduleChangedPayload(s: Schedule): ScheduleChangedPayload {
  return {
    id: s.id,
    companyId: s.companyId,
    domain: s.domain as Domain,
    jobType: s.jobType,
    frequency: s.frequency,
    intervalMinutes: s.intervalMinutes ?? null,
    intervalSetting: s.intervalSetting ?? null,
    minute: s.minute,
    hourOfDay: s.hourOfDay ?? null,
    dayOfWeek: s.dayOfWeek ?? null,
    dayOfMonth: s.dayOfMonth ?? null,
    timezone: s.timezone,
    dateRangeDays: s.dateRangeDays ?? null,
    enabled: !!s.enabled,
    pausedReason: s.pausedReason ?? null,
    overlapPolicy: s.overlapPolicy,
    catchupWindowS: s.catchupWindowS,
    lastRunAt: iso(s.lastRunAt),
    nextRunAt: iso(s.nextRunAt),
    createdAt: iso(s.createdAt)!,
    updatedAt: iso(s.updatedAt)!,
  };
}

export type ScheduleEventMessage = { topic: Topic } & OutgoingMessage;

/** The outbox rows for changed schedules and deleted ones (tombstones). */
export function scheduleEvents(changed: Schedule[], deletedIds: number[] = []): ScheduleEventMessage[] {
  return [
    ...changed.map((s) => scheduleChangedMessage(scheduleChangedPayload(s))),
    ...deletedIds.map((id) => scheduleDeletedMessage(id)),
  ];
}
