import type { Frequency } from './schedule-api.dto';
import type { OverlapPolicy } from '../sync-requested';

/**
 * A schedule as the scheduler's API answers it (GET/POST /api/companies/:companyId/schedules, PATCH
 * /api/schedules/:id/toggle): snake_case, times in UTC ISO-8601, plus the next run in its zone and in words.
 */
export interface ScheduleView {
  id: number;
  company_id: number;
  domain: string;
  job_type: string;
  frequency: Frequency;
  interval_minutes: number | null;
  minute: number;
  hour_of_day: number | null;
  day_of_week: number | null;
  day_of_month: number | null;
  timezone: string;
  date_range_days: number | null;
  enabled: boolean;
  paused_reason: string | null;
  overlap_policy: OverlapPolicy;
  catchup_window_s: number;
  last_run_at: string | null;
  next_run_at: string | null;
  next_run_local: string | null;
  next_run_human: string | null;
}

/** A setting as GET/PUT /api/settings/:key answer it: what was stored and what the system acts on. */
export interface SettingView {
  key: string;
  value: unknown;
  effective_value: number;
}

/** POST /api/schedules/:id/run answers 202 with the run id of the tick it published. */
export interface RunNowResponse {
  run_id: string;
}
