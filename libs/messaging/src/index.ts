export * from './event-publisher';
export * from './in-process-bus';
export * from './kafka-options';
export * from './message-processor';
export * from './messaging.module';
export * from './outbox';
export * from './topic-provisioner';
export * from './transport';
