import { Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { SyncCursor } from '@sync-hub/persistence';
import { RobawsApiClient } from '../robaws/robaws-api.client';
import { CustomerPullService } from './customer-pull.service';
import { CustomerPushService } from './customer-push.service';
import { CustomersApiService } from './customers-api.service';
import { CustomersController } from './customers.controller';
import { RobawsCustomer } from './robaws-customer.entity';

/**
 * The Robaws customer cache (issue 11): the API client, the pull, and (as they land) push and webhooks; the customers
 * API (its sync and push of one customer run through the run executor, which RunsModule provides to the whole process).
 */
@Module({
  imports: [TypeOrmModule.forFeature([RobawsCustomer, SyncCursor])],
  controllers: [CustomersController],
  providers: [
    {
      provide: RobawsApiClient,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new RobawsApiClient(config.crm.robaws, config.http),
    },
    CustomerPullService,
    CustomerPushService,
    CustomersApiService,
  ],
  exports: [RobawsApiClient, CustomerPullService, CustomerPushService],
})
export class RobawsCustomersModule implements OnApplicationShutdown {
  constructor(private readonly client: RobawsApiClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
