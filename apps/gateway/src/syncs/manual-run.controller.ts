import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Param,
  Post,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOperation,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { IsInt, IsObject, IsOptional, Min } from 'class-validator';
import { findJob, parseJobParams, registeredJobNames, SyncRequestedPayload, tickMessage } from '@sync-hub/contracts';
import { EventPublisher } from '@sync-hub/messaging';
import { ApiKeyGuard } from '@sync-hub/platform';

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

  /** Only jobs in the registry run; params are checked against the job's params DTO before anything is published. */
  @Post(':domain/:job/run')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Run a registered job now (trigger manual); the sync service applies the overlap rule (skip)',
  })
  @ApiAcceptedResponse({ description: '{ run_id }' })
  @ApiBadRequestResponse({ description: 'an unknown job (the message names the registered ones) or bad params' })
  @ApiServiceUnavailableResponse({ description: 'the bus is down: nothing was requested; try again once it is back' })
  async run(
    @Param('domain') domain: string,
    @Param('job') job: string,
    @Body() body: ManualRunDto,
  ): Promise<{ run_id: string }> {
    const declaration = findJob(domain, job);
    if (!declaration) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: [`no job ${domain}/${job} in this version; registered jobs: ${registeredJobNames()}`],
        fields: { job: [`must be one of ${registeredJobNames()}`] },
      });
    }
    const parsed = parseJobParams(declaration, body.params);
    if (parsed.problems) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: Object.entries(parsed.problems).flatMap(([f, reasons]) => reasons.map((r) => `${f}: ${r}`)),
        fields: parsed.problems,
      });
    }
    const now = new Date();
    const tick: SyncRequestedPayload = {
      runId: randomUUID(),
      domain: declaration.domain,
      job,
      companyId: body.company_id ?? 1,
      trigger: 'manual',
      scheduledFor: now.toISOString(),
      deadline: new Date(now.getTime() + MANUAL_DEADLINE_MS).toISOString(),
      ...(body.params ? { params: body.params } : {}),
    };
    const { topic, ...message } = tickMessage(tick);
    // Refused at once while the bus is down, rather than held for the producer's minute of retries or queued to run
    // whenever the broker returns: the operator asked for a run now, and learns now that it cannot start.
    const unreachable = await this.publisher.unreachable();
    if (unreachable) throw busDown(unreachable);
    try {
      await this.publisher.publish(topic, [message]);
    } catch (err) {
      throw busDown((err as Error).message);
    }
    return { run_id: tick.runId };
  }
}

function busDown(reason: string): ServiceUnavailableException {
  return new ServiceUnavailableException({
    statusCode: 503,
    error: 'Service Unavailable',
    message: `the bus is down, so no run was requested (${reason}); try again once /health/ready answers 200`,
  });
}
