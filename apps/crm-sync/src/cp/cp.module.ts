import { Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { SyncCursor } from '@sync-hub/persistence';
import { CpExportClient } from './cp-export.client';
import { CpExportService } from './cp-export.service';
import { CP_ENTITIES } from './cp-tables';

/** The loyalty-club export (issue 12, seed 002): its client, the export service, and its seven destinations. */
@Module({
  imports: [TypeOrmModule.forFeature([...CP_ENTITIES, SyncCursor])],
  providers: [
    {
      provide: CpExportClient,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new CpExportClient(config.crm.cp),
    },
    CpExportService,
  ],
  exports: [CpExportClient, CpExportService],
})
export class CpExportModule implements OnApplicationShutdown {
  constructor(private readonly client: CpExportClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
