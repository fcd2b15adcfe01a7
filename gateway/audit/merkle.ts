/**
 * The transparency log's Merkle tree (RFC 6962 §2.1, RFC 9162 §2.1) over an append-only array of stored hashes,
 * laid out as in Go's golang.org/x/mod/sumdb/tlog (after Crosby and Wallach, "Efficient Data Structures for
 * Tamper-Evident Logging", §3.3): appending record n stores its leaf hash followed by the hash of every perfect
 * subtree that the record completes, so that every hash ever needed is written once and never rewritten.
 *
 * Everything here is a pure function of a `HashReader`, so that any storage engine can be plugged in later; the
 * tree hash and both proofs cost one read of at most 2·log₂(size) + 2 stored hashes.
 *
 * Sizes and indexes are plain numbers. A tree holds at most MAX_TREE_SIZE = 2^52 records, which keeps every stored
 * hash index below 2^53 − 1, the largest integer a number holds exactly (see `storedHashIndex`).
 */
import { GatewayError } from '../errors/index.js';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from '../crypto/merkleHash.js';

/**
 * Reads stored hashes by index (see `storedHashIndex`), returning them in the order asked, which is not necessarily
 * increasing. Synchronous, as SQLite is.
 */
export type HashReader = (indexes: readonly number[]) => Promise<Buffer[]>;

/** The most records a tree may hold here: the last stored hash index of such a tree is 2^53 − 2. */
export const MAX_TREE_SIZE = 2 ** 52;

/** The height of the tallest subtree in a tree of MAX_TREE_SIZE records. */
const MAX_LEVEL = 52;

/** A run of leaves [lo, hi) whose RFC 6962 hash is one element of a proof, or the root. */
interface Span {
  readonly lo: number;
  readonly hi: number;
}

/**
 * Where the hash of the subtree at `level` (0 for leaves) and position `n` within that level is stored, i.e. the
 * subtree of leaves [n·2^level, (n+1)·2^level).
 */
export function storedHashIndex(level: number, n: number): number {
  checkSubtree(level, n);
  // A subtree's hash is stored with the record that completes it, its last leaf, right after that leaf's own hash
  // and the `level − 1` hashes of the smaller subtrees the leaf completes first.
  const lastLeaf = (n + 1) * 2 ** level - 1;
  // Leaf m's hash follows those of leaves 0 … m−1 and of the subtrees they completed: m + ⌊m/2⌋ + ⌊m/4⌋ + …
  let index = 0;
  for (let m = lastLeaf; m > 0; m = Math.floor(m / 2)) index += m;
  return index + level;
}

/** The inverse of `storedHashIndex`: which subtree's hash is stored at `index`. */
export function splitStoredHashIndex(index: number): { level: number; n: number } {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_STORED_HASHES) {
    throw new GatewayError('invalid_argument', `stored hash index ${index} is outside 0 … ${MAX_STORED_HASHES - 1}`);
  }
  // Leaf m's hash is stored at 2m − popcount(m) ≤ 2m, so the record that stored `index` is at least ⌊index/2⌋;
  // walk forward from there, record m storing 1 + trailingOnes(m) hashes, until the next record starts past it.
  let record = Math.floor(index / 2);
  let recordStart = storedHashIndex(0, record);
  for (;;) {
    const nextStart = recordStart + 1 + trailingOnes(record);
    if (nextStart > index) break;
    record += 1;
    recordStart = nextStart;
  }
  // The hashes a record stores are those of the subtrees at levels 0, 1, 2, … that end at its leaf.
  const level = index - recordStart;
  return { level, n: Math.floor(record / 2 ** level) };
}

/** How many hashes a tree of `size` records has stored. */
export function storedHashCount(size: number): number {
  checkSize('size', size);
  if (size === 0) return 0;
  const last = size - 1;
  return storedHashIndex(0, last) + 1 + trailingOnes(last);
}

const MAX_STORED_HASHES = storedHashCount(MAX_TREE_SIZE);

/**
 * The hashes to append to the store, from index `storedHashIndex(0, n)` on, when record `n` (counting from 0) is
 * added: its leaf hash, then one node hash for each perfect subtree it completes (one per trailing 1 bit of n).
 * Reads the left siblings of those subtrees, which earlier records stored.
 */
export async function storedHashesForRecord(n: number, recordLeafHash: Uint8Array, readHashes: HashReader): Promise<Buffer[]> {
  if (!Number.isSafeInteger(n) || n < 0 || n >= MAX_TREE_SIZE) {
    throw new GatewayError('invalid_argument', `record number ${n} is outside 0 … 2^52 − 1`);
  }
  if (recordLeafHash.length !== HASH_SIZE) {
    throw new GatewayError('invalid_argument', `the leaf hash has ${recordLeafHash.length} bytes, not ${HASH_SIZE}`);
  }
  const completed = trailingOnes(n);
  // The subtree that ends at leaf n on level i is ⌊n/2^i⌋; its left sibling is the one before it.
  const siblingIndexes: number[] = [];
  for (let level = completed - 1; level >= 0; level--) {
    siblingIndexes.push(storedHashIndex(level, Math.floor(n / 2 ** level) - 1));
  }
  const siblings = await read(readHashes, siblingIndexes);
  let hash: Buffer = Buffer.from(recordLeafHash);
  const hashes = [hash];
  for (let level = 0; level < completed; level++) {
    hash = nodeHash(siblings[completed - 1 - level], hash);
    hashes.push(hash);
  }
  return hashes;
}

/** The RFC 6962 root hash of the tree of the first `size` records; SHA-256 of no bytes for the empty tree. */
export async function treeHash(size: number, readHashes: HashReader): Promise<Buffer> {
  checkSize('size', size);
  if (size === 0) return Buffer.from(EMPTY_ROOT);
  return (await spanHashes([{ lo: 0, hi: size }], readHashes))[0];
}

/** The RFC 9162 §2.1.3.1 inclusion proof of record `index` in the tree of `size` records, from the leaf up. */
export async function inclusionProof(index: number, size: number, readHashes: HashReader): Promise<Buffer[]> {
  checkSize('size', size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new GatewayError('invalid_argument', `index ${index} is not in a tree of size ${size}`);
  }
  return spanHashes(inclusionSpans(index, size), readHashes);
}

/**
 * The RFC 9162 §2.1.4.1 consistency proof that the tree of `size2` records extends the tree of `size1` records.
 * Empty when the sizes are equal. Refuses size1 = 0, as `verifyConsistency` does (see FROM_EMPTY_TREE_NOTE there).
 */
export async function consistencyProof(size1: number, size2: number, readHashes: HashReader): Promise<Buffer[]> {
  checkSize('size1', size1);
  checkSize('size2', size2);
  if (size1 === 0 || size1 > size2) {
    throw new GatewayError('invalid_argument', `no consistency proof from size ${size1} to size ${size2}: it needs 0 < size1 ≤ size2`);
  }
  if (size1 === size2) return [];
  return spanHashes(consistencySpans(size1, size2), readHashes);
}

/**
 * PATH(index, D[0:size]) of RFC 6962 §2.1.1 as spans: walking down from the root, the sibling not taken at each
 * split; the proof lists them from the leaf up.
 */
function inclusionSpans(index: number, size: number): Span[] {
  const path: Span[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const split = lo + largestPowerOfTwoBelow(hi - lo);
    if (index < split) {
      path.push({ lo: split, hi });
      hi = split;
    } else {
      path.push({ lo, hi: split });
      lo = split;
    }
  }
  return path.reverse();
}

/**
 * PROOF(size1, D[0:size2]) of RFC 6962 §2.1.2 as spans: walk down towards the old tree's right edge, collecting the
 * subtree not taken at each split, until a subtree ends exactly where the old tree ends. That subtree's hash comes
 * first in the proof, unless it is the whole old tree, whose root the verifier already has.
 */
function consistencySpans(size1: number, size2: number): Span[] {
  const path: Span[] = [];
  let lo = 0;
  let hi = size2;
  while (hi !== size1) {
    const split = lo + largestPowerOfTwoBelow(hi - lo);
    if (size1 <= split) {
      path.push({ lo: split, hi });
      hi = split;
    } else {
      path.push({ lo, hi: split });
      lo = split;
    }
  }
  if (lo !== 0) path.push({ lo, hi });
  return path.reverse();
}

/** The hashes of the spans, from one read of the stored hashes of the perfect subtrees they consist of. */
async function spanHashes(spans: readonly Span[], readHashes: HashReader): Promise<Buffer[]> {
  const indexesPerSpan = spans.map(perfectSubtreeIndexes);
  const stored = await read(readHashes, indexesPerSpan.flat());
  let next = 0;
  return indexesPerSpan.map((indexes) => {
    const parts = stored.slice(next, next + indexes.length);
    next += indexes.length;
    // MTH(D[lo:hi]) = H(MTH(left perfect part), MTH(rest)), recursively: fold from the right.
    return parts.reduceRight((right, left) => nodeHash(left, right));
  });
}

/**
 * The stored indexes of the perfect subtrees that make up [lo, hi), left to right: RFC 6962 splits every span at
 * the largest power of two below its length, so its left part is a perfect subtree and `lo` is always a multiple
 * of the next part's size.
 */
function perfectSubtreeIndexes({ lo, hi }: Span): number[] {
  const indexes: number[] = [];
  for (let start = lo; start < hi;) {
    let level = 0;
    while (2 ** (level + 1) <= hi - start) level += 1;
    const width = 2 ** level;
    indexes.push(storedHashIndex(level, start / width));
    start += width;
  }
  return indexes;
}

/** Reads, checking that the store answered with one 32-byte hash per index; copies so callers own the result. */
async function read(readHashes: HashReader, indexes: readonly number[]): Promise<Buffer[]> {
  if (indexes.length === 0) return [];
  const hashes = await readHashes(indexes);
  if (hashes.length !== indexes.length || hashes.some((hash) => hash === undefined || hash.length !== HASH_SIZE)) {
    throw new GatewayError('internal_error', `the hash store answered ${hashes.length} hash(es) for ${indexes.length} index(es), or a hash of the wrong size`);
  }
  return hashes.map((hash) => Buffer.from(hash));
}

/** The largest power of two strictly below n (n ≥ 2): where RFC 6962 splits a span of n leaves. */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** How many 1 bits n ends in (n a non-negative safe integer; bitwise operators would truncate it to 32 bits). */
function trailingOnes(n: number): number {
  let count = 0;
  for (let m = n; m % 2 === 1; m = (m - 1) / 2) count += 1;
  return count;
}

function checkSize(name: string, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_TREE_SIZE) {
    throw new GatewayError('invalid_argument', `${name} ${size} is outside 0 … 2^52`);
  }
}

function checkSubtree(level: number, n: number): void {
  if (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL || !Number.isSafeInteger(n) || n < 0
    || (n + 1) * 2 ** level > MAX_TREE_SIZE) {
    throw new GatewayError('invalid_argument', `no subtree at level ${level}, position ${n} in a tree of at most 2^52 records`);
  }
}
