export * from './bootstrap';
export * from './bus-readiness';
export * from './platform.module';
export * from './api/api-key.guard';
export * from './api/api-keys.check';
export * from './api/validation';
export * from './api/exception.filter';
