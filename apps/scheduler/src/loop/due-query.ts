/**
 * The step's due query: the ids of at most `limit` enabled schedules due by a moment, oldest first, locked (MySQL).
 *
 * On MySQL/MariaDB the index is forced: with a large share of the table due at once (a tenth in the benchmark),
 * MariaDB estimates the range of `idx_schedules_due` dearer than a table scan and falls back to `ref` on its first
 * column (`enabled = 1`, key_len 1) with the date as an index condition. That reads the same entries while rows are
 * due, but is not bounded by the date: a query that finds fewer than `limit` rows walks every enabled schedule's index
 * entry. Forced, it stays a range scan of (enabled, next_run_at) whatever the statistics say (the bench prints the
 * EXPLAIN). Only ids are read, from the index itself; the rows are then read by primary key.
 */
export function dueIdsSql(mysql: boolean, limit: number): string {
  return (
    `SELECT id FROM schedules${mysql ? ' FORCE INDEX (idx_schedules_due)' : ''}` +
    ` WHERE enabled = ? AND next_run_at <= ? ORDER BY next_run_at ASC, id ASC LIMIT ${Math.floor(limit)}` +
    (mysql ? ' FOR UPDATE' : '')
  );
}
