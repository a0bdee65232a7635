import 'reflect-metadata';
export * from './app-config';
export * from './config.module';
export { EnvironmentVariables } from './env.dto';
export * from './deployment-requirements';
