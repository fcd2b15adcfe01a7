/** Content hashes: SHA-256, incrementally over streamed input. */
import { createHash, randomBytes } from 'node:crypto';
import type { Hash } from 'node:crypto';

export function contentHasher(): Hash {
  return createHash('sha256');
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Fresh secret key material (KEK, blind-index key). */
export function newSecret(bytes = 32): Buffer {
  return randomBytes(bytes);
}

/** Random hex for identifiers that must not collide (participant ids): not secret, just unguessable. */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
