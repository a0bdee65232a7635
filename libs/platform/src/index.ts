export * from './bootstrap';
export * from './bus-readiness';
export * from './ping-only.controller';
export * from './platform.module';
export * from './run-executor';
