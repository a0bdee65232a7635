import {
  Body,
  Controller,
  Get,
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
  ConfigPage,
  ConfigView,
  CreateConfigBody,
  ListConfigsQuery,
  UpdateConfigBody,
  USAGE_API_DESCRIPTIONS as ANSWERS,
} from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import { ConfigsApiService } from './configs-api.service';

const configId = new ParseIntPipe({ exceptionFactory: () => new NotFoundException('config not found') });

/** The reseller configs of the usage sync (issue 13): their usage and the last sync's outcome are the sync's. */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/usage/configs')
@UseGuards(ApiKeyGuard)
export class ConfigsController {
  constructor(private readonly configs: ConfigsApiService) {}

  @Get()
  @ApiOperation({
    summary: 'Reseller configs by id, filtered by reseller, panel, status and a failing last sync; cursor-paginated',
  })
  @ApiResponse({ status: 200, description: `{ data: ConfigView[], next_cursor: string | null }. ${ANSWERS.config}` })
  @ApiResponse({ status: 400, description: 'fields names each bad query field' })
  list(@Query() query: ListConfigsQuery): Promise<ConfigPage> {
    return this.configs.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One reseller config with its usage' })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: ANSWERS.config })
  @ApiResponse({ status: 404, description: 'unknown config' })
  get(@Param('id', configId) id: number): Promise<ConfigView> {
    return this.configs.get(id);
  }

  @Post()
  @ApiOperation({ summary: 'Add a reseller config (its usage starts at 0 until the first sync)' })
  @ApiBody({ type: CreateConfigBody })
  @ApiResponse({ status: 201, description: ANSWERS.config })
  @ApiResponse({ status: 400, description: ANSWERS.configBad })
  @ApiResponse({ status: 409, description: ANSWERS.configTaken })
  create(@Body() body: CreateConfigBody): Promise<ConfigView> {
    return this.configs.create(body);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Edit a reseller config (its usage is written by the sync only)' })
  @ApiParam({ name: 'id', type: Number })
  @ApiBody({ type: UpdateConfigBody })
  @ApiResponse({ status: 200, description: ANSWERS.config })
  @ApiResponse({ status: 400, description: ANSWERS.configBad })
  @ApiResponse({ status: 404, description: 'unknown config' })
  @ApiResponse({ status: 409, description: ANSWERS.configTaken })
  update(@Param('id', configId) id: number, @Body() body: UpdateConfigBody): Promise<ConfigView> {
    return this.configs.update(id, body);
  }
}
