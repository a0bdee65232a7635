import { Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { SyncCursor } from '@sync-hub/persistence';
import { CustomerSyncService } from './customer-sync.service';
import { SplynxClient } from './splynx.client';
import { SplynxCustomer } from './splynx-customer.entity';

@Module({
  imports: [TypeOrmModule.forFeature([SplynxCustomer, SyncCursor])],
  providers: [
    {
      provide: SplynxClient,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new SplynxClient(config.splynx, config.http),
    },
    CustomerSyncService,
  ],
  exports: [CustomerSyncService],
})
export class CustomersModule implements OnApplicationShutdown {
  constructor(private readonly client: SplynxClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
