import { JOB_REGISTRY, jobParamNames } from '@sync-hub/contracts';

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** `jobs`: the job registry as a table, the one list the gateway, the scheduler and the sync apps read. */
export function jobsTable(): string {
  const header = ['job', 'lease', 'time limit', 'retries', 'params', 'what it does'];
  const rows = JOB_REGISTRY.map((d) => [
    `${d.domain}/${d.job}`,
    duration(d.leaseMs),
    duration(d.timeLimitMs),
    String(d.retries),
    jobParamNames(d).join(', ') || '-',
    d.description,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}
