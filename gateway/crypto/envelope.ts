/**
 * Envelope encryption of records. Each record is sealed with an AEAD under a data key; data keys are wrapped by the
 * key-encryption key (KEK) kept in the keys directory, so the database alone opens nothing. The cipher is the crypto
 * profile's (profile.ts): AES-256-GCM, or SM4-GCM under the 国密 profile; a data key and the KEK carry theirs.
 *
 * Sealed record layout: format (1 byte: 0x01 AES-256-GCM, 0x02 SM4-GCM) ‖ data key id (uint32 BE) ‖ nonce (12) ‖
 * ciphertext ‖ tag (16). The associated data binds the ciphertext to its dataset and record id, so a ciphertext
 * copied onto another row fails to open. Nonces are random: with 96-bit random nonces a data key must seal fewer than
 * 2^32 records, far above one key's life here (rotate with `gateway keys rotate-data`).
 */
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../errors/index.js';
import { aeadNamed } from './profile.js';
import type { AeadName } from './profile.js';

/** The format byte of a sealed record, per cipher. */
const RECORD_FORMATS: Readonly<Record<AeadName, number>> = { 'aes-256-gcm': 0x01, 'sm4-gcm': 0x02 };
const HEADER_BYTES = 1 + 4;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A key and the cipher it is for: a data key, or the key-encryption key that wraps data keys. */
export interface CipherKey {
  readonly aead: AeadName;
  readonly secret: Buffer;
}

export interface DataKey extends CipherKey {
  readonly id: number;
}

export function recordAssociatedData(dataset: string, recordId: number): Buffer {
  return Buffer.from(`gateway/record/v1\u001f${dataset}\u001f${recordId}`, 'utf8');
}

/** Seals a record. `nonce` must be 12 fresh random bytes (callers fill them in bulk). */
export function sealRecord(key: DataKey, associatedData: Buffer, plaintext: Buffer, nonce: Uint8Array): Buffer {
  const { ciphertext, tag } = aeadNamed(key.aead).seal(key.secret, nonce, associatedData, plaintext);
  const sealed = Buffer.allocUnsafe(HEADER_BYTES + NONCE_BYTES + ciphertext.length + TAG_BYTES);
  sealed[0] = RECORD_FORMATS[key.aead];
  sealed.writeUInt32BE(key.id, 1);
  sealed.set(nonce, HEADER_BYTES);
  ciphertext.copy(sealed, HEADER_BYTES + NONCE_BYTES);
  tag.copy(sealed, HEADER_BYTES + NONCE_BYTES + ciphertext.length);
  return sealed;
}

/**
 * The first five bytes a record sealed under `keyId` starts with, one per cipher (the format byte and the key id):
 * the stores find whether a key still seals a record by these alone, never opening one. Both formats, whatever the
 * profile, so a key is never taken for unused because its records are sealed with the other cipher.
 */
export function sealedHeaders(keyId: number): Buffer[] {
  return Object.values(RECORD_FORMATS).map((format) => {
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = format;
    header.writeUInt32BE(keyId, 1);
    return header;
  });
}

/** The id of the data key a sealed record names. */
export function sealedKeyId(sealed: Uint8Array): number {
  if (sealed.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES || !Object.values(RECORD_FORMATS).includes(sealed[0]!)) {
    throw new GatewayError('decryption_failed', 'sealed record has an unknown format');
  }
  return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength).readUInt32BE(1);
}

export function openRecord(keyFor: (keyId: number) => DataKey, associatedData: Buffer, sealed: Uint8Array): Buffer {
  const key = keyFor(sealedKeyId(sealed));
  if (sealed[0] !== RECORD_FORMATS[key.aead]) {
    throw new GatewayError('decryption_failed', `a stored record is not sealed with ${key.aead}, the cipher of its data key`);
  }
  const nonce = sealed.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    return aeadNamed(key.aead).open(key.secret, nonce, associatedData, sealed.subarray(HEADER_BYTES + NONCE_BYTES, sealed.length - TAG_BYTES), tag);
  } catch (cause) {
    throw new GatewayError('decryption_failed', 'a stored record failed authentication', { cause });
  }
}

function keyWrapAssociatedData(keyId: number): Buffer {
  return Buffer.from(`gateway/data-key/v1\u001f${keyId}`, 'utf8');
}

/** Wraps a data key under the KEK, with the KEK's cipher, bound to the key id: nonce ‖ wrapped key ‖ tag. */
export function wrapDataKey(kek: CipherKey, key: DataKey): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const { ciphertext, tag } = aeadNamed(kek.aead).seal(kek.secret, nonce, keyWrapAssociatedData(key.id), key.secret);
  return Buffer.concat([nonce, ciphertext, tag]);
}

/** A data key unwrapped: it is for the KEK's cipher, as every data key under one profile is. */
export function unwrapDataKey(kek: CipherKey, keyId: number, wrapped: Uint8Array): DataKey {
  const aead = aeadNamed(kek.aead);
  try {
    const secret = aead.open(kek.secret, wrapped.subarray(0, NONCE_BYTES), keyWrapAssociatedData(keyId),
      wrapped.subarray(NONCE_BYTES, wrapped.length - TAG_BYTES), wrapped.subarray(wrapped.length - TAG_BYTES));
    if (secret.length !== aead.keyBytes) throw new Error(`an unwrapped data key of ${secret.length} bytes is not a ${aead.name} key`);
    return { id: keyId, aead: aead.name, secret };
  } catch (cause) {
    throw new GatewayError('key_material_missing', `data key ${keyId} cannot be unwrapped with this key-encryption key`, { cause });
  }
}

/** A fresh data key for the cipher of the KEK that will wrap it. */
export function newDataKey(id: number, aead: AeadName): DataKey {
  return { id, aead, secret: randomBytes(aeadNamed(aead).keyBytes) };
}

/** Random bytes for nonces, filled in bulk: one call per chunk of rows instead of one per row. */
export function randomNonces(count: number): Buffer {
  return randomBytes(count * NONCE_BYTES);
}

export { NONCE_BYTES };
