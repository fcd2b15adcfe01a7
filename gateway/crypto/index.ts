export {
  sealRecord, openRecord, sealedKeyId, wrapDataKey, unwrapDataKey, newDataKey, randomNonces, recordAssociatedData,
  NONCE_BYTES,
} from './envelope.js';
export type { CipherKey, DataKey } from './envelope.js';
export { createBlindIndexer } from './blindIndex.js';
export type { BlindIndexer, BlindIndexKey, SubjectId } from './blindIndex.js';
export { aeadNamed, cryptoProfile, isCryptoProfileName, CRYPTO_PROFILES } from './profile.js';
export type { Aead, AeadName, CryptoProfile, CryptoProfileName } from './profile.js';
export { contentHasher, sha256Hex, newSecret, randomHex } from './digest.js';
export { newWebhookSecret, signWebhook } from './webhook.js';
