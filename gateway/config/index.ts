export { DEFAULT_CONSENT_MAX_DAYS, findProjectRoot, loadConfig } from './config.js';
export type { AlertDeliveryConfig, ConsentPurpose, GatewayConfig, LogLevel, TlsConfig, WitnessConfig } from './config.js';
