import { ConfigReading, WRITE_BATCH, WrittenConfig } from './usage-writer';

/**
 * Writes results in batches of WRITE_BATCH while the reads go on, one batch at a time, so a run's memory stays flat
 * and a run stopped at its time limit has saved nearly everything it read. A failed write fails the run at its end.
 */
export class BatchedWrites {
  private pending: ConfigReading[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (batch: ConfigReading[]) => Promise<WrittenConfig[]>,
    private readonly onWritten: (written: WrittenConfig[]) => void,
  ) {}

  add(reading: ConfigReading): void {
    this.pending.push(reading);
    if (this.pending.length >= WRITE_BATCH) this.flush();
  }

  /** Writes what is pending and waits for every batch; throws the first write's failure. */
  async done(): Promise<void> {
    this.flush();
    await this.chain;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.chain = this.chain.then(async () => this.onWritten(await this.write(batch)));
    this.chain.catch(() => undefined); // awaited in done()
  }
}
