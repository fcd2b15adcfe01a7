export { GatewayError, InvalidRowsError, errorRegistry } from './errors.js';
export type { ErrorCode, RowError, GatewayErrorOptions } from './errors.js';
