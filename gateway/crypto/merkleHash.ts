/**
 * The transparency log's hash function: RFC 6962 §2.1 (RFC 9162 §2.1.1) Merkle tree hashing with SHA-256.
 * Leaves and interior nodes are hashed under different one-byte prefixes, so that a leaf can never be passed off as
 * an interior node (the second-preimage attack on unprefixed Merkle trees).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Bytes in every leaf, node and root hash. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** The root of the empty tree, SHA-256 of no bytes. Shared: copy it before handing it to code that may mutate it. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** The hash of a log entry: SHA-256(0x00 ‖ entry). */
export function leafHash(entry: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

/** The hash of an interior node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * Whether two hashes are equal, in time that depends only on their lengths: a root or proof hash supplied by a
 * client must not leak, through timing, how many of its leading bytes were right.
 */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
