import { Cadence } from './next-run';
import type { Schedule } from './schedule.entity';

/**
 * A schedule's timing fields as the next-run functions read them. A schedule driven by a setting (the usage schedule)
 * takes its interval from the setting's effective value when one is given.
 */
export function cadenceOf(s: Schedule, intervalFromSetting?: number): Cadence {
  return {
    frequency: s.frequency,
    intervalMinutes: s.intervalSetting && intervalFromSetting ? intervalFromSetting : s.intervalMinutes,
    minute: s.minute,
    hourOfDay: s.hourOfDay,
    dayOfWeek: s.dayOfWeek,
    dayOfMonth: s.dayOfMonth,
    timezone: s.timezone,
  };
}
