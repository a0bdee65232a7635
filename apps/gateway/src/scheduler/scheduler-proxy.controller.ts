import { Controller, Delete, Get, Patch, Post, Put, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { PutSettingDto, ToggleScheduleDto, UpsertScheduleDto } from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import type { Request, Response } from 'express';
import { SchedulerClient } from './scheduler.client';

/**
 * The schedule and settings routes, forwarded to the scheduler, which owns them and validates bodies (its 400s, 404s
 * and answers come back unchanged). Documented here so /docs shows the whole public API.
 */
@ApiTags('schedules')
@ApiBearerAuth()
@Controller('api')
@UseGuards(ApiKeyGuard)
export class SchedulerProxyController {
  constructor(private readonly scheduler: SchedulerClient) {}

  private async pass(req: Request, res: Response): Promise<void> {
    const out = await this.scheduler.forward(req.method, req.originalUrl, req.body, req.headers.authorization);
    res.status(out.status);
    if (out.body === undefined) res.end();
    else res.json(out.body);
  }

  @Get('companies/:companyId/schedules')
  @ApiOperation({ summary: "The company's schedules, with next_run_at (UTC), next_run_local and next_run_human" })
  @ApiParam({ name: 'companyId', type: Number })
  list(@Req() req: Request, @Res() res: Response) {
    return this.pass(req, res);
  }

  @Post('companies/:companyId/schedules')
  @ApiOperation({
    summary:
      'Create (201) or update (200) the schedule of a company for a domain and job type; a job without a handler in this version is stored disabled, with the reason',
  })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiBody({ type: UpsertScheduleDto })
  @ApiResponse({ status: 201, description: 'created' })
  @ApiResponse({ status: 200, description: 'updated' })
  @ApiResponse({ status: 400, description: 'fields names each bad field' })
  upsert(@Req() req: Request, @Res() res: Response) {
    return this.pass(req, res);
  }

  @Patch('schedules/:id/toggle')
  @ApiOperation({ summary: 'Enable or disable a schedule (with a reason, kept as paused_reason)' })
  @ApiBody({ type: ToggleScheduleDto })
  @ApiResponse({ status: 409, description: 'enabling a schedule whose job has no handler in this version' })
  toggle(@Req() req: Request, @Res() res: Response) {
    return this.pass(req, res);
  }

  @Delete('schedules/:id')
  @ApiOperation({ summary: 'Delete a schedule (204)' })
  @ApiResponse({ status: 204, description: 'deleted' })
  remove(@Req() req: Request, @Res() res: Response) {
    return this.pass(req, res);
  }

  @Post('schedules/:id/run')
  @ApiOperation({ summary: "Run a schedule's job now, under its overlap policy: 202 { run_id }" })
  @ApiResponse({ status: 202, description: '{ run_id }' })
  @ApiResponse({ status: 409, description: 'its job has no handler in this version' })
  run(@Req() req: Request, @Res() res: Response) {
    return this.pass(req, res);
  }

  @Get('settings/:key')
  @ApiOperation({ summary: 'A setting: { key, value, effective_value }' })
  getSetting(@Req() req: Request, @Res() res: Response) {
    return this.pass(req, res);
  }

  @Put('settings/:key')
  @ApiOperation({ summary: 'Change a setting; it applies from the next minute' })
  @ApiBody({ type: PutSettingDto })
  putSetting(@Req() req: Request, @Res() res: Response) {
    return this.pass(req, res);
  }
}
