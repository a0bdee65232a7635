import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { isDuplicateKeyError } from '@sync-hub/persistence';
import { RunTakeover } from '@sync-hub/contracts';
import { RunClaim, RunClaimStatus } from './run-claim.entity';

export type ClaimOutcome =
  { kind: 'claimed' } | { kind: 'finished'; status: RunClaimStatus } | { kind: 'held'; until: Date };

/** Whether this worker won the claim, and for a running run, the takeover its events record. */
export type TakeoverOutcome = { won: false } | { won: true; takeover?: RunTakeover };

export interface NewClaim {
  runId: string;
  app: string;
  jobKey: string;
  tick: unknown;
}

/** Runs are keyed by run id: a claim row makes a tick delivered twice execute once (DESIGN.md section 7). */
@Injectable()
export class RunClaimsService {
  private readonly columns = new Map<keyof RunClaim, ColumnMetadata>();

  constructor(@InjectRepository(RunClaim) private readonly claims: Repository<RunClaim>) {}

  /**
   * One INSERT as plain SQL. `Repository.insert` re-selected the row on MySQL/MariaDB to read back `attempt`'s default
   * (two round trips), and the query builder cost more CPU to build the statement than the database took to run it
   * (scenario 3's profiles, docs/benchmarks.md). Values go through the driver as TypeORM would write them (dates as the
   * engine stores them), so MariaDB and the embedded mode's SQLite store the same as before.
   */
  private async insert(row: {
    runId: string;
    app: string;
    jobKey: string;
    tick: string;
    status: RunClaimStatus;
    claimedUntil: Date;
    updatedAt: Date;
    attempt: number;
  }): Promise<void> {
    await this.claims.query(
      'INSERT INTO run_claims (run_id, app, job_key, tick, status, claimed_until, updated_at, attempt) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        row.runId,
        row.app,
        row.jobKey,
        row.tick,
        row.status,
        this.stored('claimedUntil', row.claimedUntil),
        this.stored('updatedAt', row.updatedAt),
        row.attempt,
      ],
    );
  }

  /** A value as TypeORM writes it to a run_claims column. */
  private stored(property: keyof RunClaim, value: unknown): unknown {
    let column = this.columns.get(property);
    if (!column) {
      column = this.claims.metadata.findColumnWithPropertyName(property)!;
      this.columns.set(property, column);
    }
    return this.claims.manager.connection.driver.preparePersistentValue(value, column) as unknown;
  }

  /** Records the run as taken on by this app, or says why not: it already finished, or a live holder renews it. */
  async claim(claim: NewClaim, leaseMs: number, now: Date): Promise<ClaimOutcome> {
    try {
      await this.insert({
        runId: claim.runId,
        app: claim.app,
        jobKey: claim.jobKey,
        tick: JSON.stringify(claim.tick),
        status: 'running',
        claimedUntil: new Date(now.getTime() + leaseMs),
        updatedAt: now,
        attempt: 1,
      });
      return { kind: 'claimed' };
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    const existing = await this.claims.findOneByOrFail({ runId: claim.runId });
    if (existing.status === 'running' || existing.status === 'waiting')
      return { kind: 'held', until: existing.claimedUntil };
    return { kind: 'finished', status: existing.status };
  }

  /**
   * Takes over a claim whose holder stopped renewing it (or handed it over), as read by `expired`. Atomic: of two
   * workers, one wins (the attempt it read must still be the claim's). A running run's takeover is a new attempt, with
   * its time and reason, which its run events carry; a waiting run never started, so it only changes hands.
   */
  async takeOver(claim: RunClaim, app: string, leaseMs: number, now: Date): Promise<TakeoverOutcome> {
    const running = claim.status === 'running';
    const takeover: RunTakeover = {
      attempt: claim.attempt + 1,
      takenOverAt: now,
      reason: claim.handedOverAt ? 'handed_over' : 'claim_expired',
    };
    const res = await this.claims
      .createQueryBuilder()
      .update(RunClaim)
      .set({
        app,
        claimedUntil: new Date(now.getTime() + leaseMs),
        updatedAt: now,
        handedOverAt: null,
        ...(running ? { attempt: takeover.attempt, takenOverAt: now, takeoverReason: takeover.reason } : {}),
      })
      .where('run_id = :runId AND status = :status AND attempt = :attempt AND claimed_until < :now', {
        runId: claim.runId,
        status: claim.status,
        attempt: claim.attempt,
        now,
      })
      .execute();
    if ((res.affected ?? 0) === 0) return { won: false };
    return running ? { won: true, takeover } : { won: true };
  }

  /**
   * Lets an open claim expire now (its holder is stopping): any replica's sweeper takes it over at its next sweep, as
   * it would a crashed worker's after the lease, and records the takeover as a handover.
   */
  async handOver(runId: string, now: Date): Promise<void> {
    const at = this.stored('updatedAt', now);
    await this.claims.query(
      "UPDATE run_claims SET claimed_until = ?, updated_at = ?, handed_over_at = ? WHERE run_id = ? AND status IN ('running', 'waiting')",
      [at, at, at, runId],
    );
  }

  /** Open claims of an app whose holder stopped renewing them (a crashed worker's runs). */
  expired(app: string, now: Date, limit = 50): Promise<RunClaim[]> {
    return this.claims.find({
      where: { app, status: In(['running', 'waiting']), claimedUntil: LessThan(now) },
      order: { updatedAt: 'ASC' },
      take: limit,
    });
  }

  /** Renews the claim of a running run, and of runs waiting behind it for the same job. */
  async renew(runId: string, jobKey: string, leaseMs: number, now: Date): Promise<void> {
    await this.claims.query(
      'UPDATE run_claims SET claimed_until = ?, updated_at = ? ' +
        "WHERE (run_id = ? AND status = 'running') OR (job_key = ? AND status = 'waiting')",
      [this.stored('claimedUntil', new Date(now.getTime() + leaseMs)), this.stored('updatedAt', now), runId, jobKey],
    );
  }

  async setStatus(runId: string, status: RunClaimStatus, now: Date): Promise<void> {
    const at = this.stored('updatedAt', now);
    // An open claim keeps its lease; an ended one's lease ends now.
    const open = status === 'running' || status === 'waiting';
    await this.claims.query(
      `UPDATE run_claims SET status = ?, updated_at = ?${open ? '' : ', claimed_until = ?'} WHERE run_id = ?`,
      open ? [status, at, runId] : [status, at, at, runId],
    );
  }

  finish(runId: string, status: Exclude<RunClaimStatus, 'running' | 'waiting'>, now = new Date()): Promise<void> {
    return this.setStatus(runId, status, now);
  }

  /** The run buffered behind the job's running run, if any (buffer_one keeps at most one). */
  waiting(jobKey: string): Promise<RunClaim | null> {
    return this.claims.findOne({ where: { jobKey, status: 'waiting' }, order: { updatedAt: 'ASC' } });
  }

  /** Records a run that was decided without executing it (a stale tick), so a redelivery says the same. */
  async recordSkipped(claim: NewClaim, now: Date): Promise<boolean> {
    try {
      await this.insert({
        runId: claim.runId,
        app: claim.app,
        jobKey: claim.jobKey,
        tick: JSON.stringify(claim.tick),
        status: 'skipped',
        claimedUntil: now,
        updatedAt: now,
        attempt: 1,
      });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }
}
