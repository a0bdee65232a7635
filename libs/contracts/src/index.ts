import 'reflect-metadata';
export * from './topics';
export * from './envelope';
export * from './sync-requested';
export * from './run-events';
export * from './validation';
export * from './classified-error';
export * from './api/schedule-api.dto';
