import { Module } from '@nestjs/common';
import { UsagePanelsModule } from '../panels/panels.module';
import { ConfigsApiService } from './configs-api.service';
import { ConfigsController } from './configs.controller';
import { PanelsApiService } from './panels-api.service';
import { PanelsController } from './panels.controller';
import { ResellersApiService } from './resellers-api.service';
import { ResellersController } from './resellers.controller';

/**
 * The usage management API (issue 13): resellers, panels (credentials write-only, sealed with PanelSecrets) and
 * reseller configs, under /api/usage, behind the API key guard. The gateway forwards it in the distributed mode.
 */
@Module({
  imports: [UsagePanelsModule],
  controllers: [ResellersController, PanelsController, ConfigsController],
  providers: [ResellersApiService, PanelsApiService, ConfigsApiService],
})
export class UsageManagementModule {}
