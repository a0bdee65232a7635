import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@sync-hub/config';
import { DataSource } from 'typeorm';
import { appDataSourceOptions, PLATFORM_ENTITIES } from './data-source-options';
import { serializeSqliteTransactions } from './sqlite-transactions';
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
      // sql.js has one connection for every caller: its transactions take turns (sqlite-transactions.ts).
      dataSourceFactory: async (options) => serializeSqliteTransactions(await new DataSource(options!).initialize()),
    }),
    TypeOrmModule.forFeature(PLATFORM_ENTITIES),
  ],
  providers: [JobLeasesService],
  exports: [TypeOrmModule, JobLeasesService],
})
export class PersistenceModule {}
