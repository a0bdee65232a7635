export * from './secret-box';
export * from './secrets-key';
export * from './secret-key-check.entity';
export * from './verify-secrets-key';
