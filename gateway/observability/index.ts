export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { createMetrics, countIngestedBatch } from './metrics.js';
export type { Metrics } from './metrics.js';
