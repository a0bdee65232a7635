import { Controller, Get, NotFoundException, Param, ParseUUIDPipe, Query, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '@sync-hub/platform';
import { ListRunsQuery } from './dto/list-runs.query';
import { RunHistoryService } from './run-history.service';
import { SyncRun } from './sync-run.entity';

/** The run as the API shows it: snake_case, ISO-8601 UTC times. */
function present(run: SyncRun) {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    run_id: run.runId,
    domain: run.domain,
    job: run.job,
    company_id: run.companyId,
    schedule_id: run.scheduleId,
    trigger: run.trigger,
    status: run.status,
    scheduled_for: iso(run.scheduledFor),
    started_at: iso(run.startedAt),
    finished_at: iso(run.finishedAt),
    duration_ms: run.durationMs,
    stats: run.stats,
    error: run.error,
    skip_reason: run.skipReason,
  };
}

@Controller('api/runs')
@UseGuards(ApiKeyGuard)
export class RunsController {
  constructor(private readonly history: RunHistoryService) {}

  @Get()
  async list(@Query() query: ListRunsQuery) {
    const runs = await this.history.list({ ...query, limit: query.limit ?? 50 });
    return { data: runs.map(present) };
  }

  @Get(':runId')
  async get(@Param('runId', new ParseUUIDPipe()) runId: string) {
    const run = await this.history.find(runId);
    if (!run) throw new NotFoundException(`run ${runId} not found`);
    return present(run);
  }
}
