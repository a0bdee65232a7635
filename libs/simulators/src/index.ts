export * from './http-server';
export * from './random';
export * from './splynx/customer-generator';
export * from './splynx/splynx-simulator';
export * from './quickbooks/quickbooks-simulator';
export * from './devpos/devpos-simulator';
export * from './embedded-upstreams';
export * from './transport-faults';
