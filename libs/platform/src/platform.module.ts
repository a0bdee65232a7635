import { DynamicModule, Global, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AppConfig, ConfigModule } from '@sync-hub/config';
import { MessagingModule } from '@sync-hub/messaging';
import { ObservabilityModule } from '@sync-hub/observability';
import { PersistenceModule } from '@sync-hub/persistence';
import { HealthModule } from './health/health.module';

/** What every app stands on: validated configuration, logs and metrics, its database, its bus, health. */
@Global()
@Module({})
export class PlatformModule {
  static forApp(appName: string): DynamicModule {
    return PlatformModule.with(ConfigModule.forApp(appName));
  }

  /** For a host that builds the configuration itself (the embedded host, the CLI, tests). */
  static forConfig(config: AppConfig): DynamicModule {
    return PlatformModule.with(ConfigModule.fromConfig(config));
  }

  private static with(config: DynamicModule): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        config,
        ScheduleModule.forRoot(),
        ObservabilityModule,
        PersistenceModule,
        MessagingModule,
        HealthModule,
      ],
      exports: [HealthModule],
    };
  }
}
