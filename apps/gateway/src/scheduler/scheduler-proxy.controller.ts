import { Controller, Delete, Get, Patch, Post, Put, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  CreateCompanyDto,
  PutSettingDto,
  ToggleScheduleDto,
  UpdateCompanyDto,
  UpsertScheduleDto,
} from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import type { Request, Response } from 'express';
import { SchedulerClient } from './scheduler.client';

/** Sends the request on to the scheduler as the caller made it, and its answer back unchanged. */
async function relay(scheduler: SchedulerClient, req: Request, res: Response): Promise<void> {
  const out = await scheduler.forward(req.method, req.originalUrl, req.body, req.headers.authorization);
  res.status(out.status);
  if (out.body === undefined) res.end();
  else res.json(out.body);
}

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

  private pass(req: Request, res: Response): Promise<void> {
    return relay(this.scheduler, req, res);
  }

  @Get('companies/:companyId/schedules')
  @ApiOperation({ summary: "The company's schedules, with next_run_at (UTC), next_run_local and next_run_human" })
  @ApiParam({ name: 'companyId', type: Number })
  @ApiResponse({ status: 404, description: 'no such company' })
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
  @ApiResponse({ status: 404, description: 'no such company' })
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

/**
 * The company routes, forwarded to the scheduler like the schedule routes: it owns companies (issue 9). No DELETE: a
 * company is deactivated with `active: false`.
 */
@ApiTags('companies')
@ApiBearerAuth()
@Controller('api/companies')
@UseGuards(ApiKeyGuard)
export class CompaniesProxyController {
  constructor(private readonly scheduler: SchedulerClient) {}

  @Get()
  @ApiOperation({ summary: 'Every company, ordered by id: { id, name, timezone, active, created_at, updated_at }' })
  list(@Req() req: Request, @Res() res: Response) {
    return relay(this.scheduler, req, res);
  }

  @Post()
  @ApiOperation({ summary: 'Create a company (201); timezone defaults to Europe/Tirane, active to true' })
  @ApiBody({ type: CreateCompanyDto })
  @ApiResponse({ status: 201, description: 'the company' })
  @ApiResponse({ status: 400, description: 'fields names each bad field' })
  create(@Req() req: Request, @Res() res: Response) {
    return relay(this.scheduler, req, res);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A company' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 404, description: 'no such company' })
  get(@Req() req: Request, @Res() res: Response) {
    return relay(this.scheduler, req, res);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change any of name, timezone, active (a company is deactivated with active: false, never deleted)',
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiBody({ type: UpdateCompanyDto })
  @ApiResponse({ status: 200, description: 'the company as it now is' })
  @ApiResponse({ status: 400, description: 'fields names each bad field' })
  @ApiResponse({ status: 404, description: 'no such company' })
  update(@Req() req: Request, @Res() res: Response) {
    return relay(this.scheduler, req, res);
  }
}
