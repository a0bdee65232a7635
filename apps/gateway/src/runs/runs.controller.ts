import {
  BadRequestException,
  Controller,
  Get,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '@sync-hub/platform';
import { ListRunsQuery } from './dto/list-runs.query';
import { decodeCursor, encodeCursor, RunHistoryService } from './run-history.service';
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
    warnings: run.warnings ?? [],
    skip_reason: run.skipReason,
    // 1 unless another worker took the run over (its worker died or was stopped): then when, and why.
    attempts: run.attempts ?? 1,
    taken_over_at: iso(run.takenOverAt),
    takeover_reason: run.takeoverReason,
  };
}

@ApiTags('runs')
@ApiBearerAuth()
@Controller('api/runs')
@UseGuards(ApiKeyGuard)
export class RunsController {
  constructor(private readonly history: RunHistoryService) {}

  @Get()
  @ApiOperation({ summary: 'Run history, newest first, filtered; cursor-paginated (pass next_cursor as cursor)' })
  @ApiOkResponse({ description: '{ data: Run[], next_cursor: string | null }' })
  async list(@Query() query: ListRunsQuery) {
    const limit = query.limit ?? 50;
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    if (after === null)
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: ['cursor: not a cursor this API gave out'],
        fields: { cursor: ['not a cursor this API gave out'] },
      });
    const runs = await this.history.list({
      domain: query.domain,
      job: query.job,
      status: query.status,
      companyId: query.company_id,
      since: query.since ? new Date(query.since) : undefined,
      after,
      limit: limit + 1,
    });
    const page = runs.slice(0, limit);
    return { data: page.map(present), next_cursor: runs.length > limit ? encodeCursor(page[page.length - 1]) : null };
  }

  @Get(':runId')
  @ApiOperation({ summary: 'One run (404 if unknown)' })
  async get(@Param('runId', new ParseUUIDPipe()) runId: string) {
    const run = await this.history.find(runId);
    if (!run) throw new NotFoundException(`run ${runId} not found`);
    return present(run);
  }
}
