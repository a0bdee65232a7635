export * from './bootstrap';
export * from './bus-readiness';
export * from './ping-only.controller';
export * from './platform.module';
export * from './run-executor';
export * from './api/api-key.guard';
export * from './api/api-keys.check';
export * from './api/validation';
