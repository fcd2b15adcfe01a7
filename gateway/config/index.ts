export { DEFAULT_CONSENT_MAX_DAYS, DEFAULT_REPORT_FONT, findProjectRoot, loadConfig } from './config.js';
export type { AlertDeliveryConfig, ConsentPurpose, GatewayConfig, LogLevel, ReportConfig, TlsConfig, UplinkConfig, WitnessConfig } from './config.js';
