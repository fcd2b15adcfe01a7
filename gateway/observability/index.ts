export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { createMetrics, countIngestedBatch, countRefusedBatch, observeGatewayState } from './metrics.js';
export type { GatewayState, Metrics } from './metrics.js';
export { createOperatorStatus } from './operatorStatus.js';
export type { BatchView, OperatorStatus, StatusView } from './operatorStatus.js';
