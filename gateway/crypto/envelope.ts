/**
 * Envelope encryption of records. Each record is sealed with AES-256-GCM under a data key; data keys are wrapped
 * by the key-encryption key (KEK) kept in the keys directory, so the database alone opens nothing.
 *
 * Sealed record layout: version (1 byte, 0x01) ‖ data key id (uint32 BE) ‖ nonce (12) ‖ ciphertext ‖ tag (16).
 * The associated data binds the ciphertext to its dataset and record id, so a ciphertext copied onto another row
 * fails to open. Nonces are random: with 96-bit random nonces a data key must seal fewer than 2^32 records, far
 * above one key's life here (rotate with `gateway keys rotate-data`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GatewayError } from '../errors/index.js';

const RECORD_FORMAT = 0x01;
const HEADER_BYTES = 1 + 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;

export interface DataKey {
  readonly id: number;
  readonly secret: Buffer;
}

export function recordAssociatedData(dataset: string, recordId: number): Buffer {
  return Buffer.from(`gateway/record/v1\u001f${dataset}\u001f${recordId}`, 'utf8');
}

/** Seals a record. `nonce` must be 12 fresh random bytes (callers fill them in bulk). */
export function sealRecord(key: DataKey, associatedData: Buffer, plaintext: Buffer, nonce: Uint8Array): Buffer {
  const sealed = Buffer.allocUnsafe(HEADER_BYTES + NONCE_BYTES + plaintext.length + TAG_BYTES);
  sealed[0] = RECORD_FORMAT;
  sealed.writeUInt32BE(key.id, 1);
  sealed.set(nonce, HEADER_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.secret, nonce);
  cipher.setAAD(associatedData);
  const body = HEADER_BYTES + NONCE_BYTES;
  const written = cipher.update(plaintext).copy(sealed, body);
  cipher.final();
  cipher.getAuthTag().copy(sealed, body + written);
  return sealed;
}

/** The id of the data key a sealed record names. */
export function sealedKeyId(sealed: Uint8Array): number {
  if (sealed.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES || sealed[0] !== RECORD_FORMAT) {
    throw new GatewayError('decryption_failed', 'sealed record has an unknown format');
  }
  return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).readUInt32BE(1);
}

export function openRecord(keyFor: (keyId: number) => DataKey, associatedData: Buffer, sealed: Uint8Array): Buffer {
  const key = keyFor(sealedKeyId(sealed));
  const nonce = sealed.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.secret, nonce);
    decipher.setAAD(associatedData);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES + NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new GatewayError('decryption_failed', 'a stored record failed authentication', { cause });
  }
}

function keyWrapAssociatedData(keyId: number): Buffer {
  return Buffer.from(`gateway/data-key/v1\u001f${keyId}`, 'utf8');
}

/** Wraps a data key under the KEK (AES-256-GCM, bound to the key id): nonce ‖ wrapped key ‖ tag. */
export function wrapDataKey(kek: Buffer, key: DataKey): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(keyWrapAssociatedData(key.id));
  const body = Buffer.concat([cipher.update(key.secret), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function unwrapDataKey(kek: Buffer, keyId: number, wrapped: Uint8Array): DataKey {
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, NONCE_BYTES));
    decipher.setAAD(keyWrapAssociatedData(keyId));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
    const secret = Buffer.concat([decipher.update(wrapped.subarray(NONCE_BYTES, wrapped.length - TAG_BYTES)), decipher.final()]);
    return { id: keyId, secret };
  } catch (cause) {
    throw new GatewayError('key_material_missing', `data key ${keyId} cannot be unwrapped with this key-encryption key`, { cause });
  }
}

export function newDataKey(id: number): DataKey {
  return { id, secret: randomBytes(DATA_KEY_BYTES) };
}

/** Random bytes for nonces, filled in bulk: one call per chunk of rows instead of one per row. */
export function randomNonces(count: number): Buffer {
  return randomBytes(count * NONCE_BYTES);
}

export { NONCE_BYTES };
