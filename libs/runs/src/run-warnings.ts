import { MAX_RUN_WARNING_LENGTH, MAX_RUN_WARNINGS } from '@sync-hub/contracts';

/**
 * The warnings of one try of a run, as the completed event carries them: each distinct message once, in the order
 * first given, cut to the contract's length, and at most MAX_RUN_WARNINGS entries, the last of which says how many
 * more there were. Bounded so that no job can make its own completed event invalid (it would be dead-lettered).
 */
export class RunWarnings {
  private readonly distinct = new Set<string>();

  /** Adds a warning; answers false when the same message was already given (so it is logged once). */
  add(message: string): boolean {
    const text = fitted(String(message));
    if (this.distinct.has(text)) return false;
    this.distinct.add(text);
    return true;
  }

  list(): string[] {
    const all = [...this.distinct];
    if (all.length <= MAX_RUN_WARNINGS) return all;
    const kept = all.slice(0, MAX_RUN_WARNINGS - 1);
    return [...kept, `… and ${all.length - kept.length} more`];
  }
}

function fitted(message: string): string {
  return message.length <= MAX_RUN_WARNING_LENGTH ? message : `${message.slice(0, MAX_RUN_WARNING_LENGTH - 1)}…`;
}
