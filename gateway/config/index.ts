export { loadConfig } from './config.js';
export type { GatewayConfig, LogLevel, TlsConfig } from './config.js';
