import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ScheduleChangedPayload } from '@sync-hub/contracts';
import { Repository } from 'typeorm';
import { ScheduleProjection } from './schedule-projection.entity';

/**
 * The gateway's projection of the scheduler's schedules, from the compacted `scheduler.schedule.changed.v1`. One key's
 * messages arrive in the order the scheduler committed them (its outbox sends them oldest first, one flusher at a
 * time, on one partition per key) and are applied in that order; each carries the whole schedule, so a re-sent copy
 * only replays a prefix that the later messages then overwrite. (Comparing event times instead would trust the
 * clocks of two scheduler replicas to agree, and could not order a change against a tombstone.)
 */
@Injectable()
export class ScheduleProjectionService {
  constructor(@InjectRepository(ScheduleProjection) private readonly projections: Repository<ScheduleProjection>) {}

  /** Applies a schedule's state, received as of `occurredAt` (kept to tell a re-created schedule from an older one). */
  async apply(s: ScheduleChangedPayload, occurredAt: Date): Promise<void> {
    await this.projections.save(
      this.projections.create({
        scheduleId: s.id,
        companyId: s.companyId,
        domain: s.domain,
        jobType: s.jobType,
        frequency: s.frequency,
        intervalMinutes: s.intervalMinutes ?? null,
        timezone: s.timezone,
        enabled: s.enabled,
        pausedReason: s.pausedReason ?? null,
        lastRunAt: s.lastRunAt ? new Date(s.lastRunAt) : null,
        nextRunAt: s.nextRunAt ? new Date(s.nextRunAt) : null,
        scheduleCreatedAt: new Date(s.createdAt),
        scheduleUpdatedAt: new Date(s.updatedAt),
        eventAt: occurredAt,
      }),
    );
  }

  /** A tombstone: the schedule was deleted. */
  async remove(scheduleId: number): Promise<void> {
    await this.projections.delete({ scheduleId });
  }

  all(): Promise<ScheduleProjection[]> {
    return this.projections.find({ order: { scheduleId: 'ASC' } });
  }

  get(scheduleId: number): Promise<ScheduleProjection | null> {
    return this.projections.findOneBy({ scheduleId });
  }

  /** The company's schedule of a job (the latest, should a delete and a re-create still be on their way). */
  async forJob(companyId: number, domain: string, job: string): Promise<ScheduleProjection | null> {
    const [latest] = await this.projections.find({
      where: { companyId, domain, jobType: job },
      order: { eventAt: 'DESC' },
      take: 1,
    });
    return latest ?? null;
  }
}
