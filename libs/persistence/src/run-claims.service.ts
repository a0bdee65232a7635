import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { isDuplicateKeyError } from './errors';
import { RunClaim, RunClaimStatus } from './run-claim.entity';

export type ClaimOutcome = { kind: 'claimed' } | { kind: 'finished'; status: RunClaimStatus } | { kind: 'held'; until: Date };

/** Runs are keyed by run id: a claim row makes a tick delivered twice execute once (DESIGN.md section 7). */
@Injectable()
export class RunClaimsService {
  constructor(@InjectRepository(RunClaim) private readonly claims: Repository<RunClaim>) {}

  /** Takes the run, or says why not: it already finished, or a live holder still renews it. */
  async claim(runId: string, app: string, leaseMs: number, now = new Date()): Promise<ClaimOutcome> {
    const until = new Date(now.getTime() + leaseMs);
    try {
      await this.claims.insert({ runId, app, status: 'running', claimedUntil: until, updatedAt: now });
      return { kind: 'claimed' };
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    // The holder stopped renewing (it crashed): take the run over. The condition makes the take-over atomic.
    const takeover = await this.claims
      .createQueryBuilder()
      .update()
      .set({ app, claimedUntil: until, updatedAt: now })
      .where('run_id = :runId AND status = :running AND claimed_until < :now', { runId, running: 'running', now })
      .execute();
    if ((takeover.affected ?? 0) > 0) return { kind: 'claimed' };
    const existing = await this.claims.findOneByOrFail({ runId });
    return existing.status === 'running' ? { kind: 'held', until: existing.claimedUntil } : { kind: 'finished', status: existing.status };
  }

  async renew(runId: string, leaseMs: number, now = new Date()): Promise<void> {
    await this.claims.update({ runId, status: 'running' }, { claimedUntil: new Date(now.getTime() + leaseMs), updatedAt: now });
  }

  async finish(runId: string, status: Exclude<RunClaimStatus, 'running'>, now = new Date()): Promise<void> {
    await this.claims.update({ runId }, { status, claimedUntil: now, updatedAt: now });
  }

  /** Records a run that was decided without executing it (a stale tick), so a redelivery says the same. */
  async recordSkipped(runId: string, app: string, now = new Date()): Promise<boolean> {
    try {
      await this.claims.insert({ runId, app, status: 'skipped', claimedUntil: now, updatedAt: now });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }
}
