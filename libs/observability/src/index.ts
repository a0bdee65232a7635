export * from './metrics.service';
export * from './observability.module';
export * from './run-log-context';
