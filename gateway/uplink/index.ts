export { createUplink } from './uplink.js';
export type { ManifestClaims, ManifestSummary, Uplink, UplinkWorker } from './uplink.js';
export { openPlatform, RECEIPT_TYPE } from './platform.js';
