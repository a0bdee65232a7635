export type JobState = 'pending' | 'healthy' | 'running' | 'overdue' | 'failing' | 'paused';

export interface JobFacts {
  paused: boolean;
  /** The status of the job's latest run that was not skipped; null when it never ran. */
  lastStatus: string | null;
  consecutiveFailures: number;
  lastSuccessAt: Date | null;
  /** When its schedule was created (the clock for "overdue" before any success). */
  since: Date | null;
  intervalMinutes: number | null;
}

/**
 * The state a job is in, most urgent first: paused, running, failing, overdue, then pending (scheduled, never run
 * yet: a skipped tick is not a run) and healthy.
 */
export function jobState(s: JobFacts, now: Date): JobState {
  if (s.paused) return 'paused';
  if (s.lastStatus === 'running') return 'running';
  if (s.consecutiveFailures > 0) return 'failing';
  const reference = s.lastSuccessAt ?? s.since;
  if (s.intervalMinutes && reference && now.getTime() - reference.getTime() > 2 * s.intervalMinutes * 60000)
    return 'overdue';
  if (s.lastStatus === null && s.lastSuccessAt === null) return 'pending';
  return 'healthy';
}
