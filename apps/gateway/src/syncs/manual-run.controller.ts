import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { IsInt, IsObject, IsOptional, Min } from 'class-validator';
import { DOMAINS, Domain, JOBS_BY_DOMAIN, SyncRequestedPayload, tickMessage } from '@sync-hub/contracts';
import { EventPublisher } from '@sync-hub/messaging';
import { ApiKeyGuard } from '@sync-hub/platform';
import { NotFoundException } from '@nestjs/common';

export class ManualRunDto {
  @ApiPropertyOptional({ default: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  company_id?: number;

  @ApiPropertyOptional({ description: 'job parameters, e.g. { "limit": 100 } for splynx/customers' })
  @IsOptional()
  @IsObject()
  params?: Record<string, unknown>;
}

/** A deadline for manual runs: a run nobody got to within an hour is stale. */
const MANUAL_DEADLINE_MS = 3600000;

@ApiTags('syncs')
@ApiBearerAuth()
@Controller('api/syncs')
@UseGuards(ApiKeyGuard)
export class ManualRunController {
  constructor(private readonly publisher: EventPublisher) {}

  @Post(':domain/:job/run')
  @HttpCode(202)
  @ApiOperation({ summary: 'Run a job now (trigger manual); the sync service applies the overlap rule (skip)' })
  @ApiAcceptedResponse({ description: '{ run_id }' })
  async run(
    @Param('domain') domain: string,
    @Param('job') job: string,
    @Body() body: ManualRunDto,
  ): Promise<{ run_id: string }> {
    if (!(DOMAINS as readonly string[]).includes(domain) || !JOBS_BY_DOMAIN[domain as Domain].includes(job)) {
      throw new NotFoundException(
        `no job ${domain}/${job}; jobs: ${Object.entries(JOBS_BY_DOMAIN)
          .map(([d, js]) => js.map((j) => `${d}/${j}`).join(', '))
          .join(', ')}`,
      );
    }
    const now = new Date();
    const tick: SyncRequestedPayload = {
      runId: randomUUID(),
      domain: domain as Domain,
      job,
      companyId: body.company_id ?? 1,
      trigger: 'manual',
      scheduledFor: now.toISOString(),
      deadline: new Date(now.getTime() + MANUAL_DEADLINE_MS).toISOString(),
      ...(body.params ? { params: body.params } : {}),
    };
    const { topic, ...message } = tickMessage(tick);
    await this.publisher.publish(topic, [message]);
    return { run_id: tick.runId };
  }
}
