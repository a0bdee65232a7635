import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ScheduleChangedPayload } from '@sync-hub/contracts';
import { Repository } from 'typeorm';
import { ScheduleProjection } from './schedule-projection.entity';

/**
 * The gateway's projection of the scheduler's schedules, from the compacted `scheduler.schedule.changed.v1`. One key's
 * messages arrive in order on one partition and are applied one at a time; each carries the whole schedule, so
 * applying one twice is harmless, and an older copy arriving after a newer one (a re-sent outbox row) is ignored.
 */
@Injectable()
export class ScheduleProjectionService {
  private readonly logger = new Logger(ScheduleProjectionService.name);

  constructor(@InjectRepository(ScheduleProjection) private readonly projections: Repository<ScheduleProjection>) {}

  /** Applies a schedule's state as of `occurredAt`; false when a newer state is already applied. */
  async apply(s: ScheduleChangedPayload, occurredAt: Date): Promise<boolean> {
    const current = await this.projections.findOneBy({ scheduleId: s.id });
    if (current && new Date(current.eventAt).getTime() > occurredAt.getTime()) {
      this.logger.debug(
        `schedule ${s.id}: ignoring a copy from ${occurredAt.toISOString()}, older than the one applied`,
      );
      return false;
    }
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
    return true;
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
