export { loadConfig } from './config.js';
export type { GatewayConfig, LogLevel, TlsConfig, WitnessConfig } from './config.js';
