import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '@sync-hub/platform';
import { JobStatus, StatusService } from './status.service';

@ApiTags('status')
@ApiBearerAuth()
@Controller('api/status')
@UseGuards(ApiKeyGuard)
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get()
  @ApiOperation({
    summary: 'Every job (per company where it applies): last run, last success, consecutive failures, next run, state',
  })
  @ApiOkResponse({
    description:
      '{ data: JobStatus[], generated_at } with state pending | healthy | running | overdue | failing | paused',
  })
  async get(): Promise<{ data: JobStatus[]; generated_at: string }> {
    const now = new Date();
    return { data: await this.status.status(now), generated_at: now.toISOString() };
  }
}
