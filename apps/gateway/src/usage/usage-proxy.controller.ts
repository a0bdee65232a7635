import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  CONFIG_STATUSES,
  CreateConfigBody,
  CreatePanelBody,
  CreateResellerBody,
  UpdateConfigBody,
  UpdatePanelBody,
  USAGE_API_DESCRIPTIONS as ANSWERS,
  USAGE_PANEL_TYPES,
} from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import type { Request, Response } from 'express';
import { passThrough } from '../accounting/accounting-proxy.controller';
import { CONFIG_SYNC_TIMEOUT_MS, UsageClient } from './usage.client';

const SYNC_TIMEOUT = `usage-sync did not answer within ${CONFIG_SYNC_TIMEOUT_MS / 60_000} minutes; the sync may still be going`;
const PAGED = 'cursor-paginated (pass next_cursor as cursor)';

function searchOf(req: Request): string {
  return req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
}

/**
 * The usage management routes, forwarded to usage-sync (which owns resellers, panels and reseller_configs, and
 * validates queries and bodies). Documented here so /docs shows the whole public API; answers come back as
 * usage-sync gave them.
 */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/usage/resellers')
@UseGuards(ApiKeyGuard)
export class UsageResellersProxyController {
  constructor(private readonly usage: UsageClient) {}

  @Get()
  @ApiOperation({ summary: `Resellers by id, with their config counts; ${PAGED}` })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 50' })
  @ApiResponse({
    status: 200,
    description: `{ data: ResellerView[], next_cursor: string | null }. ${ANSWERS.reseller}`,
  })
  @ApiResponse({ status: 400, description: 'fields names each bad query field' })
  async list(@Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.list('resellers', searchOf(req), req.headers.authorization));
  }

  @Post()
  @ApiOperation({ summary: 'Create a reseller' })
  @ApiBody({ type: CreateResellerBody })
  @ApiResponse({ status: 201, description: ANSWERS.reseller })
  @ApiResponse({ status: 400, description: 'fields names each bad field (an empty name, unknown fields)' })
  @ApiResponse({ status: 409, description: 'a reseller of that name exists' })
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.create('resellers', req.body, req.headers.authorization));
  }
}

/** The panels, forwarded to usage-sync: credentials go there in the body and never come back. */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/usage/panels')
@UseGuards(ApiKeyGuard)
export class UsagePanelsProxyController {
  constructor(private readonly usage: UsageClient) {}

  @Get()
  @ApiOperation({
    summary: `Panels by id with their health (last success and error, configs, active configs, those failing, error rate); ${PAGED}`,
  })
  @ApiQuery({ name: 'type', required: false, enum: USAGE_PANEL_TYPES })
  @ApiQuery({ name: 'active', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 50' })
  @ApiResponse({ status: 200, description: `{ data: PanelView[], next_cursor: string | null }. ${ANSWERS.panel}` })
  @ApiResponse({ status: 400, description: 'fields names each bad query field' })
  async list(@Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.list('panels', searchOf(req), req.headers.authorization));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One panel with its health' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: ANSWERS.panel })
  @ApiResponse({ status: 404, description: 'unknown panel' })
  async get(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.get('panels', id, req.headers.authorization));
  }

  @Post()
  @ApiOperation({ summary: 'Add a panel: its credentials are sealed and never answered back' })
  @ApiBody({ type: CreatePanelBody })
  @ApiResponse({ status: 201, description: ANSWERS.panel })
  @ApiResponse({ status: 400, description: ANSWERS.panelBad })
  @ApiResponse({ status: 409, description: 'a panel of that name exists' })
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.create('panels', req.body, req.headers.authorization));
  }

  @Patch(':id')
  @ApiOperation({
    summary:
      'Edit a panel: a credential given replaces the stored one, null removes it; a type change drops the credentials and settings the new type does not read',
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiBody({ type: UpdatePanelBody })
  @ApiResponse({ status: 200, description: ANSWERS.panel })
  @ApiResponse({ status: 400, description: ANSWERS.panelBad })
  @ApiResponse({ status: 404, description: 'unknown panel' })
  @ApiResponse({ status: 409, description: 'a panel of that name exists' })
  async update(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.update('panels', id, req.body, req.headers.authorization));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a panel no config uses (204)' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiResponse({ status: 404, description: 'unknown panel' })
  @ApiResponse({ status: 409, description: ANSWERS.panelDeleteBusy })
  async remove(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.remove('panels', id, req.headers.authorization));
  }
}

/** The reseller configs and a config's sync, forwarded to usage-sync. */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/usage/configs')
@UseGuards(ApiKeyGuard)
export class UsageConfigsProxyController {
  constructor(private readonly usage: UsageClient) {}

  @Get()
  @ApiOperation({
    summary: `Reseller configs by id, filtered by reseller, panel, status and a failing last sync; ${PAGED}`,
  })
  @ApiQuery({ name: 'reseller_id', required: false, type: Number })
  @ApiQuery({ name: 'panel_id', required: false, type: Number })
  @ApiQuery({ name: 'status', required: false, enum: CONFIG_STATUSES })
  @ApiQuery({
    name: 'failing',
    required: false,
    enum: ['true', 'false'],
    description: 'the last sync was a hard failure',
  })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1–500, default 50' })
  @ApiResponse({ status: 200, description: `{ data: ConfigView[], next_cursor: string | null }. ${ANSWERS.config}` })
  @ApiResponse({ status: 400, description: 'fields names each bad query field' })
  async list(@Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.list('configs', searchOf(req), req.headers.authorization));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One reseller config with its usage' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: ANSWERS.config })
  @ApiResponse({ status: 404, description: 'unknown config' })
  async get(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.get('configs', id, req.headers.authorization));
  }

  @Post()
  @ApiOperation({ summary: 'Add a reseller config (its usage starts at 0 until the first sync)' })
  @ApiBody({ type: CreateConfigBody })
  @ApiResponse({ status: 201, description: ANSWERS.config })
  @ApiResponse({ status: 400, description: ANSWERS.configBad })
  @ApiResponse({ status: 409, description: ANSWERS.configTaken })
  async create(@Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.create('configs', req.body, req.headers.authorization));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Edit a reseller config (its usage is written by the sync only)' })
  @ApiParam({ name: 'id', type: Number })
  @ApiBody({ type: UpdateConfigBody })
  @ApiResponse({ status: 200, description: ANSWERS.config })
  @ApiResponse({ status: 400, description: ANSWERS.configBad })
  @ApiResponse({ status: 404, description: 'unknown config' })
  @ApiResponse({ status: 409, description: ANSWERS.configTaken })
  async update(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.update('configs', id, req.body, req.headers.authorization));
  }

  @Post(':id/sync')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Syncs this config's usage from its panel now (the job's adapter code) and answers the diagnostic when it has ended",
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: ANSWERS.configSync })
  @ApiResponse({ status: 404, description: 'unknown config' })
  @ApiResponse({ status: 504, description: SYNC_TIMEOUT })
  async sync(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    passThrough(res, await this.usage.syncConfig(id, req.headers.authorization));
  }
}
