import { Body, Controller, Get, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  CreateResellerBody,
  ResellerPage,
  ResellerView,
  USAGE_API_DESCRIPTIONS as ANSWERS,
  UsagePageQuery,
} from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import { ResellersApiService } from './resellers-api.service';

/** The resellers of the usage sync (issue 13). */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/usage/resellers')
@UseGuards(ApiKeyGuard)
export class ResellersController {
  constructor(private readonly resellers: ResellersApiService) {}

  @Get()
  @ApiOperation({ summary: 'Resellers by id, with their config counts; cursor-paginated (pass next_cursor as cursor)' })
  @ApiResponse({
    status: 200,
    description: `{ data: ResellerView[], next_cursor: string | null }. ${ANSWERS.reseller}`,
  })
  @ApiResponse({ status: 400, description: 'fields names each bad query field' })
  list(@Query() query: UsagePageQuery): Promise<ResellerPage> {
    return this.resellers.list(query);
  }

  @Post()
  @ApiOperation({ summary: 'Create a reseller' })
  @ApiBody({ type: CreateResellerBody })
  @ApiResponse({ status: 201, description: ANSWERS.reseller })
  @ApiResponse({ status: 400, description: 'fields names each bad field (an empty name, unknown fields)' })
  @ApiResponse({ status: 409, description: 'a reseller of that name exists' })
  create(@Body() body: CreateResellerBody): Promise<ResellerView> {
    return this.resellers.create(body);
  }
}
