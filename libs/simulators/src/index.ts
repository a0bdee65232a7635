export * from './http-server';
export * from './random';
export * from './splynx/customer-generator';
export * from './splynx/splynx-simulator';
export * from './quickbooks/quickbooks-simulator';
export { QBO_ENTITIES, QboEntity, QboEntityName, QboErrorDetail } from './quickbooks/qbo-model';
export { QBO_BATCH_MAX, QboCounters } from './quickbooks/qbo-api';
export { QBO_LIMITS, QboLimits } from './quickbooks/qbo-limits';
export { QBO_SEED } from './quickbooks/qbo-store';
export * from './devpos/devpos-simulator';
export * from './devpos/document-generator';
export * from './embedded-upstreams';
export * from './transport-faults';
export * from './robaws/client-generator';
export * from './robaws/robaws-simulator';
export * from './cp-export/cp-export-simulator';
export * from './vpn/vpn-users';
export * from './vpn/vpn-panel-simulator';
export * from './vpn/eylandoo-simulator';
export * from './vpn/marzban-simulator';
export { MarzneshinSimulator, MARZNESHIN_TOKEN_PATH, MARZNESHIN_USER_PATH } from './vpn/marzneshin-simulator';
export type { MarzneshinSimulatorOptions, MarzneshinUser, MarzneshinCounters } from './vpn/marzneshin-simulator';
export { ThreeXuiSimulator, THREEXUI_LEGACY_TRAFFIC_PATH, THREEXUI_V31_TRAFFIC_PATH } from './vpn/threexui-simulator';
export type {
  ThreeXuiGeneration,
  ThreeXuiSimulatorOptions,
  ThreeXuiClientTraffic,
  ThreeXuiCounters,
} from './vpn/threexui-simulator';
export * from './vpn/embedded-panels';
