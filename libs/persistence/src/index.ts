import 'reflect-metadata';
export * from './data-source-options';
export * from './errors';
export * from './migrations';
export * from './outbox-message.entity';
export * from './persistence.module';
export * from './run-claim.entity';
export * from './run-claims.service';
