import { Controller, HttpCode, NotFoundException, Param, ParseIntPipe, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { USAGE_SYNC_ONE_DESCRIPTION, UsageSyncOneView } from '@sync-hub/contracts';
import { ApiKeyGuard } from '@sync-hub/platform';
import { UsageSyncService } from './usage-sync.service';

/** The diagnostic of seed 004 over HTTP (issue 13): one config synced now, answered as JSON. */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/usage/configs')
@UseGuards(ApiKeyGuard)
export class UsageConfigSyncController {
  constructor(private readonly usage: UsageSyncService) {}

  @Post(':id/sync')
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Syncs this config's usage now through the job's adapter and writer (events included), whatever its status; a hard failure keeps the stored usage and records the error",
  })
  @ApiParam({ name: 'id', type: Number })
  @ApiResponse({ status: 200, description: USAGE_SYNC_ONE_DESCRIPTION })
  @ApiResponse({ status: 404, description: 'config not found' })
  async sync(
    @Param('id', new ParseIntPipe({ exceptionFactory: () => new NotFoundException('config not found') })) id: number,
  ): Promise<UsageSyncOneView> {
    const view = await this.usage.syncOne(id);
    if (!view) throw new NotFoundException('config not found');
    return view;
  }
}
