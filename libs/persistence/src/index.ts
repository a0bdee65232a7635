import 'reflect-metadata';
export * from './data-source-options';
export * from './errors';
export * from './job-lease.entity';
export * from './job-leases.service';
export * from './migrations';
export * from './outbox-message.entity';
export * from './persistence.module';
export * from './bulk-upsert';
