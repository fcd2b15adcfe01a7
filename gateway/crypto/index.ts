export {
  sealRecord, openRecord, sealedKeyId, wrapDataKey, unwrapDataKey, newDataKey, randomNonces, recordAssociatedData,
  NONCE_BYTES, DATA_KEY_BYTES,
} from './envelope.js';
export type { DataKey } from './envelope.js';
export { createBlindIndexer } from './blindIndex.js';
export type { BlindIndexer, SubjectId } from './blindIndex.js';
export { contentHasher, sha256Hex, newSecret, randomHex } from './digest.js';
export { newWebhookSecret, signWebhook } from './webhook.js';
