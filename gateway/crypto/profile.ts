/**
 * The crypto profile: the one seam through which the gateway picks its algorithms, so that a profile is a
 * configuration, not a fork (docs/crypto-profiles.md).
 *
 * - `standard`: AES-256-GCM seals records and data keys, HMAC-SHA-256 makes blind indexes.
 * - `gm` (国密, for GB/T 39786 assessments): SM4-GCM seals records and data keys, HMAC-SM3 makes blind indexes.
 *
 * Signatures, the audit log's hashes and participants' keys do not follow the profile yet (docs/crypto-profiles.md).
 *
 * A profile is chosen once, when the keys are made (`gateway init --crypto-profile`), and kept beside them: every
 * key and every stored byte depends on it, so a used deployment never changes profile.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { sm4GcmOpen, sm4GcmSeal, SM4_KEY_BYTES } from './gm.js';

export const CRYPTO_PROFILES = ['standard', 'gm'] as const;
export type CryptoProfileName = (typeof CRYPTO_PROFILES)[number];

export type AeadName = 'aes-256-gcm' | 'sm4-gcm';

/** Authenticated encryption with a 96-bit nonce and a 128-bit tag: all the envelope needs of a cipher. */
export interface Aead {
  readonly name: AeadName;
  readonly keyBytes: number;
  seal(key: Uint8Array, nonce: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): { ciphertext: Buffer; tag: Buffer };
  /** Throws when the ciphertext, tag, nonce, associated data or key is not the one sealed. */
  open(key: Uint8Array, nonce: Uint8Array, associatedData: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer;
}

export interface CryptoProfile {
  readonly name: CryptoProfileName;
  /** Seals records, webhook secrets and (under the key-encryption key) data keys. */
  readonly aead: Aead;
  /** The hash under HMAC for blind indexes, as node:crypto names it. */
  readonly macHash: 'sha256' | 'sm3';
}

const AES_256_GCM: Aead = {
  name: 'aes-256-gcm',
  keyBytes: 32,
  seal(key, nonce, associatedData, plaintext) {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(associatedData);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { ciphertext, tag: cipher.getAuthTag() };
  },
  open(key, nonce, associatedData, ciphertext, tag) {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(associatedData);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  },
};

// node:crypto's OpenSSL 3.0 has SM4 but not its GCM mode: gm.ts takes it from sm-crypto-v2.
const SM4_GCM: Aead = { name: 'sm4-gcm', keyBytes: SM4_KEY_BYTES, seal: sm4GcmSeal, open: sm4GcmOpen };

const AEADS: Readonly<Record<AeadName, Aead>> = { 'aes-256-gcm': AES_256_GCM, 'sm4-gcm': SM4_GCM };

const PROFILES: Readonly<Record<CryptoProfileName, CryptoProfile>> = {
  standard: { name: 'standard', aead: AES_256_GCM, macHash: 'sha256' },
  gm: { name: 'gm', aead: SM4_GCM, macHash: 'sm3' },
};

export function cryptoProfile(name: CryptoProfileName): CryptoProfile {
  return PROFILES[name];
}

export function aeadNamed(name: AeadName): Aead {
  return AEADS[name];
}

export function isCryptoProfileName(value: string): value is CryptoProfileName {
  return (CRYPTO_PROFILES as readonly string[]).includes(value);
}

/** A keyed MAC under the profile's hash. */
export function hmac(hash: CryptoProfile['macHash'], key: Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac(hash, key).update(data).digest();
}
