export * from './errors';
export * from './resilient-http-client';
export * from './upstream-error-class';
