export { loadConfig } from './config.js';
export type { GatewayConfig, LogLevel } from './config.js';
