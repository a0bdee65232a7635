import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, Repository } from 'typeorm';
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
  constructor(@InjectRepository(RunClaim) private readonly claims: Repository<RunClaim>) {}

  /**
   * One INSERT and nothing else. `Repository.insert` re-selects the row after it on MySQL/MariaDB to read back the
   * columns with a default (`attempt`), which doubled the round trips of taking a run on (profile of scenario 3,
   * docs/benchmarks.md): the values written are all known here, so nothing needs reading back.
   */
  private async insert(row: Partial<RunClaim>): Promise<void> {
    await this.claims.createQueryBuilder().insert().into(RunClaim).values(row).updateEntity(false).execute();
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
    await this.claims
      .createQueryBuilder()
      .update(RunClaim)
      .set({ claimedUntil: now, updatedAt: now, handedOverAt: now })
      .where('run_id = :runId AND status IN (:...open)', { runId, open: ['running', 'waiting'] })
      .execute();
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
    const until = new Date(now.getTime() + leaseMs);
    await this.claims
      .createQueryBuilder()
      .update(RunClaim)
      .set({ claimedUntil: until, updatedAt: now })
      .where("(run_id = :runId AND status = 'running') OR (job_key = :jobKey AND status = 'waiting')", {
        runId,
        jobKey,
      })
      .execute();
  }

  async setStatus(runId: string, status: RunClaimStatus, now: Date): Promise<void> {
    await this.claims.update(
      { runId },
      { status, updatedAt: now, ...(status === 'running' || status === 'waiting' ? {} : { claimedUntil: now }) },
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
      });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }
}
