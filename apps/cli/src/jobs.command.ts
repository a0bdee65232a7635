import { JOB_REGISTRY, JobDeclaration } from '@sync-hub/contracts';
import { getMetadataStorage } from 'class-validator';

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** The names of a job's params, read from its params DTO's validation metadata. */
export function paramNames(declaration: JobDeclaration): string[] {
  if (!declaration.params) return [];
  const metadata = getMetadataStorage().getTargetValidationMetadatas(declaration.params, '', true, false);
  return [...new Set(metadata.map((m) => m.propertyName))];
}

/** `jobs`: the job registry as a table, the one list the gateway, the scheduler and the sync apps read. */
export function jobsTable(): string {
  const header = ['job', 'lease', 'time limit', 'retries', 'params', 'what it does'];
  const rows = JOB_REGISTRY.map((d) => [
    `${d.domain}/${d.job}`,
    duration(d.leaseMs),
    duration(d.timeLimitMs),
    String(d.retries),
    paramNames(d).join(', ') || '-',
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
