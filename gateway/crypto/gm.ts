/**
 * 国密 primitives the gateway takes from outside node:crypto. Node's OpenSSL 3.0 has SM3 (`createHash('sm3')`) and
 * SM4's ECB, CBC and CTR modes, but not SM4-GCM: that comes from sm-crypto-v2 (maintained, on @noble/curves; gm-crypto
 * and sm-crypto are older jsbn code without GCM).
 */
import { sm4 } from 'sm-crypto-v2';

export const SM4_KEY_BYTES = 16;
export const SM4_GCM_NONCE_BYTES = 12;
export const SM4_GCM_TAG_BYTES = 16;

function checkSizes(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== SM4_KEY_BYTES) throw new RangeError(`an SM4 key is ${SM4_KEY_BYTES} bytes, not ${key.length}`);
  if (nonce.length !== SM4_GCM_NONCE_BYTES) throw new RangeError(`an SM4-GCM nonce here is ${SM4_GCM_NONCE_BYTES} bytes, not ${nonce.length}`);
}

/** SM4-GCM (GB/T 32907 in the GCM mode of NIST SP 800-38D, as RFC 8998 uses it), with a 128-bit tag. */
export function sm4GcmSeal(key: Uint8Array, nonce: Uint8Array, associatedData: Uint8Array, plaintext: Uint8Array): { ciphertext: Buffer; tag: Buffer } {
  checkSizes(key, nonce);
  const { output, tag } = sm4.encrypt(plaintext, key, { mode: 'gcm', iv: nonce, associatedData, output: 'array', outputTag: true });
  if (tag === undefined || tag.length !== SM4_GCM_TAG_BYTES) throw new Error('SM4-GCM gave no 128-bit tag');
  return { ciphertext: Buffer.from(output), tag: Buffer.from(tag) };
}

/** Throws when the key, nonce, associated data, ciphertext or tag is not the one sealed. */
export function sm4GcmOpen(key: Uint8Array, nonce: Uint8Array, associatedData: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): Buffer {
  checkSizes(key, nonce);
  if (tag.length !== SM4_GCM_TAG_BYTES) throw new RangeError(`an SM4-GCM tag here is ${SM4_GCM_TAG_BYTES} bytes, not ${tag.length}`);
  return Buffer.from(sm4.decrypt(ciphertext, key, { mode: 'gcm', iv: nonce, associatedData, tag, output: 'array' }));
}
