import { IHeaders } from 'kafkajs';

/**
 * The header of the record `dlq:replay` appends to a `.dlq` when it republishes a dead letter: its value is the
 * letter's id `<partition>:<offset>`. A marker is not a dead letter.
 */
export const DLQ_REPLAY_OF_HEADER = 'dlqReplayOf';

export interface DeadLetterCount {
  /** Dead letters still on the topic (markers not counted), replayed or not. */
  depth: number;
  /** Of those, the ones no marker says were replayed. */
  pending: number;
}

/**
 * What a reader of the `.dlq` topics has seen: the offsets of the dead letters per partition and the ids the replay
 * markers name. Counted against the partitions' start offsets at the time of asking, so letters removed by retention
 * drop out. A record read twice (the reader rejoined and started again) counts once: offsets only move forward.
 */
export class DeadLetterTally {
  /** topic → partition → the offsets of its dead letters, ascending. */
  private readonly letters = new Map<string, Map<number, number[]>>();
  /** topic → partition → the next offset not read yet. */
  private readonly next = new Map<string, Map<number, number>>();
  /** topic → ids (`<partition>:<offset>`) named by replay markers. */
  private readonly replayed = new Map<string, Set<string>>();

  add(topic: string, partition: number, offset: string | number, headers: IHeaders | undefined): void {
    const at = Number(offset);
    const nextOf = mapOf(this.next, topic);
    if (at < (nextOf.get(partition) ?? 0)) return;
    nextOf.set(partition, at + 1);
    const replayOf = headers?.[DLQ_REPLAY_OF_HEADER];
    if (replayOf != null) {
      setOf(this.replayed, topic).add(replayOf.toString());
      return;
    }
    const byPartition = mapOf(this.letters, topic);
    const offsets = byPartition.get(partition) ?? [];
    offsets.push(at);
    byPartition.set(partition, offsets);
  }

  /** The topic's count, given each partition's start offset now (a partition not given counts from 0). */
  count(topic: string, startOffsets: Map<number, number> = new Map()): DeadLetterCount {
    const replayed = this.replayed.get(topic) ?? new Set<string>();
    let depth = 0;
    let pending = 0;
    for (const [partition, offsets] of this.letters.get(topic) ?? new Map<number, number[]>()) {
      const start = startOffsets.get(partition) ?? 0;
      for (let i = firstAtOrAfter(offsets, start); i < offsets.length; i++) {
        depth++;
        if (!replayed.has(`${partition}:${offsets[i]}`)) pending++;
      }
    }
    return { depth, pending };
  }
}

function mapOf<V>(outer: Map<string, Map<number, V>>, key: string): Map<number, V> {
  let inner = outer.get(key);
  if (!inner) outer.set(key, (inner = new Map<number, V>()));
  return inner;
}

function setOf(outer: Map<string, Set<string>>, key: string): Set<string> {
  let inner = outer.get(key);
  if (!inner) outer.set(key, (inner = new Set<string>()));
  return inner;
}

/** The index of the first offset ≥ start in an ascending list (binary search). */
function firstAtOrAfter(offsets: number[], start: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid] < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
