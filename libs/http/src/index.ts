export * from './errors';
export * from './resilient-http-client';
