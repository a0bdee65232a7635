import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
/** A figure measured several times: its median, min and max (every comparison uses medians from the same run). */
export interface Figure {
  median: number;
  min: number;
  max: number;
  samples: number[];
  unit: string;
}

export function figure(samples: number[], unit: string): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], samples, unit };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function repeat<T>(times: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < times; i++) out.push(await fn(i));
  return out;
}

export const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Resident memory of a process in MB, from /proc: the peak so far (VmHWM) and now (VmRSS). */
export function rssOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

/** A goal of an issue, judged on a figure of this run: printed with its mark, and kept in latest.json. */
export interface Goal {
  /** What is judged, as the table's line names it. */
  name: string;
  value: number;
  /** `>=` or `<=` the target, or `within` target (a ratio within ±target of 1, e.g. 0.1 for "within 10 %"). */
  op: '>=' | '<=' | 'within';
  target: number;
  pass: boolean;
}

export function goal(name: string, value: number, op: Goal['op'], target: number): Goal {
  const pass =
    op === '>=' ? value >= target : op === '<=' ? value <= target : Math.abs(value - 1) <= target + Number.EPSILON;
  return { name, value, op, target, pass };
}

/** The goal's cell in the table: "≥ 0.8 ✓" or "≤ 15 ✗". */
export function goalCell(g: Goal): string {
  const target = g.op === 'within' ? `1 ± ${g.target}` : `${g.op === '>=' ? '≥' : '≤'} ${g.target}`;
  return `${target} ${g.pass ? 'pass' : 'FAIL'}`;
}

/** Messages waiting in a database's outbox (a row may hold many): change events a run left unsent when it reported. */
export async function outboxMessages(dataSource: DataSource): Promise<number> {
  const [{ n }] = await dataSource.query<Array<{ n: number | string | null }>>(
    'SELECT SUM(message_count) AS n FROM outbox_messages',
  );
  return Number(n ?? 0);
}
