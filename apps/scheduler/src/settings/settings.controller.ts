import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '@sync-hub/platform';
import { PutSettingDto } from '@sync-hub/contracts';
import { SchedulesService } from '../schedules/schedules.service';
import { SettingsService, SettingView } from './settings.service';

@Controller('api/settings')
@UseGuards(ApiKeyGuard)
export class SettingsController {
  constructor(
    private readonly settings: SettingsService,
    private readonly schedules: SchedulesService,
  ) {}

  @Get(':key')
  get(@Param('key') key: string): Promise<SettingView> {
    return this.settings.get(key);
  }

  /** Takes effect from the next minute: schedules driven by the setting get their next run recomputed now. */
  @Put(':key')
  async put(@Param('key') key: string, @Body() body: PutSettingDto): Promise<SettingView> {
    const view = await this.settings.set(key, body.value);
    await this.schedules.recomputeForSetting(key);
    return view;
  }
}
