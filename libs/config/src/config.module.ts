import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig, loadConfig } from './app-config';

export const APP_CONFIG = Symbol('APP_CONFIG');

@Global()
@Module({})
export class ConfigModule {
  /** Validates the environment once; every module then injects the typed AppConfig under APP_CONFIG. */
  static forApp(appName: string, env: Record<string, string | undefined> = process.env): DynamicModule {
    // A factory, not a value: validation runs when the app is created, where start-up errors are reported,
    // not when a module file is imported.
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useFactory: () => loadConfig(appName, env) }],
      exports: [APP_CONFIG],
    };
  }

  static fromConfig(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

/** For an app's main: validate the environment before Nest starts, so a bad value is one clear message. */
export function assertValidEnvironment(appName: string, env: Record<string, string | undefined> = process.env): void {
  loadConfig(appName, env);
}
