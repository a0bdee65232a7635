import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig, loadConfig } from './app-config';

export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** Validates the environment once; every module then injects the typed AppConfig under APP_CONFIG. */
  static forApp(appName: string, env: Record<string, string | undefined> = process.env): DynamicModule {
    return ConfigModule.fromConfig(loadConfig(appName, env));
  }

  static fromConfig(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}
