import { Body, Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '@sync-hub/platform';
import { PutSettingDto, SettingView } from '@sync-hub/contracts';
import { SettingsService } from './settings.service';

@Controller('api/settings')
@UseGuards(ApiKeyGuard)
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get(':key')
  get(@Param('key') key: string): Promise<SettingView> {
    return this.settings.get(key);
  }

  /** Takes effect from the next minute: what depends on the setting (schedule intervals) follows before the answer. */
  @Put(':key')
  put(@Param('key') key: string, @Body() body: PutSettingDto): Promise<SettingView> {
    return this.settings.set(key, body.value);
  }
}
