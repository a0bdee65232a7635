/** What hosts (apps/embedded, apps/cli, bench, tests) may use of the gateway. */
export { GATEWAY_FEATURES, GATEWAY_PROVIDERS, GatewayModule } from './gateway.module';
export { setupOpenApi } from './openapi';
