import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  CreatePanelBody,
  ListPanelsQuery,
  PanelPage,
  PanelView,
  UpdatePanelBody,
  USAGE_API_DESCRIPTIONS as ANSWERS,
} from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import { PanelsApiService } from './panels-api.service';

const panelId = new ParseIntPipe({ exceptionFactory: () => new NotFoundException('panel not found') });

/** The VPN panels of the usage sync (issue 13); credentials are write-only. */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/usage/panels')
@UseGuards(ApiKeyGuard)
export class PanelsController {
  constructor(private readonly panels: PanelsApiService) {}

  @Get()
  @ApiOperation({
    summary:
      'Panels by id with their health (last success and error, configs, active configs, those failing, error rate); cursor-paginated',
  })
  @ApiResponse({ status: 200, description: `{ data: PanelView[], next_cursor: string | null }. ${ANSWERS.panel}` })
  @ApiResponse({ status: 400, description: 'fields names each bad query field' })
  list(@Query() query: ListPanelsQuery): Promise<PanelPage> {
    return this.panels.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One panel with its health' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: ANSWERS.panel })
  @ApiResponse({ status: 404, description: 'unknown panel' })
  get(@Param('id', panelId) id: number): Promise<PanelView> {
    return this.panels.get(id);
  }

  @Post()
  @ApiOperation({ summary: 'Add a panel: its credentials are sealed and never answered back' })
  @ApiBody({ type: CreatePanelBody })
  @ApiResponse({ status: 201, description: ANSWERS.panel })
  @ApiResponse({ status: 400, description: ANSWERS.panelBad })
  @ApiResponse({ status: 409, description: 'a panel of that name exists' })
  create(@Body() body: CreatePanelBody): Promise<PanelView> {
    return this.panels.create(body);
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
  update(@Param('id', panelId) id: number, @Body() body: UpdatePanelBody): Promise<PanelView> {
    return this.panels.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a panel no config uses (204)' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 204, description: 'deleted' })
  @ApiResponse({ status: 404, description: 'unknown panel' })
  @ApiResponse({ status: 409, description: ANSWERS.panelDeleteBusy })
  async remove(@Param('id', panelId) id: number): Promise<void> {
    await this.panels.remove(id);
  }
}
