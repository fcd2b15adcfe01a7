/**
 * Keyed blind indexes: HMAC (SHA-256, or SM3 under the 国密 profile; truncated to 128 bits) of identifiers, so
 * records can be found by USCC or ID number and by natural key while the database file reveals neither who is in it
 * nor which keys they have.
 * Without the blind-index key an attacker cannot test a guessed USCC against the file.
 */
import { hmac } from './profile.js';
import type { CryptoProfile } from './profile.js';

const INDEX_BYTES = 16;
const SEPARATOR = '\u001f';

export interface SubjectId {
  readonly idType: string;
  readonly idNumber: string;
}

export interface BlindIndexer {
  /** The index of a credit subject; the same across datasets, so one lookup finds a subject everywhere. */
  subject(subject: SubjectId): Buffer;
  /** The index of a record's natural key within its dataset. */
  naturalKey(dataset: string, keyValues: readonly string[]): Buffer;
}

/** The blind-index key and the hash its HMAC is under (the crypto profile's). */
export interface BlindIndexKey {
  readonly secret: Uint8Array;
  readonly hash: CryptoProfile['macHash'];
}

export function createBlindIndexer(key: BlindIndexKey): BlindIndexer {
  const digest = (text: string) => hmac(key.hash, key.secret, Buffer.from(text, 'utf8')).subarray(0, INDEX_BYTES);
  return {
    subject: ({ idType, idNumber }) => digest(`subject${SEPARATOR}${idType}${SEPARATOR}${idNumber}`),
    naturalKey: (dataset, keyValues) => digest(`key${SEPARATOR}${dataset}${SEPARATOR}${keyValues.join(SEPARATOR)}`),
  };
}
