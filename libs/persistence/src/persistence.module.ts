import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { appDataSourceOptions, PLATFORM_ENTITIES } from './data-source-options';
import { JobLeasesService } from './job-leases.service';

/**
 * The one DataSource of a process. Apps register their own entities with TypeOrmModule.forFeature;
 * autoLoadEntities collects them, so the embedded host gets every app's entities on one SQLite file.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...appDataSourceOptions(config),
        autoLoadEntities: true,
        retryAttempts: 3,
        retryDelay: 1000,
      }),
    }),
    TypeOrmModule.forFeature(PLATFORM_ENTITIES),
  ],
  providers: [JobLeasesService],
  exports: [TypeOrmModule, JobLeasesService],
})
export class PersistenceModule {}
