import 'reflect-metadata';
export * from './job-handler';
export * from './run-claim.entity';
export * from './run-claims.service';
export * from './run-errors';
export * from './run-executor';
export * from './runs.module';
export * from './ticks.controller';
