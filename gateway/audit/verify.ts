/**
 * Verification of Merkle inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2, the same proofs as
 * RFC 6962), in the small steps of transparency-dev/merkle proof/verify.go: decompose the proof into its inner part
 * (below the point where the paths to the leaf and to the tree's last leaf meet) and its border part (along the
 * tree's right border), chain each, compare the result with the expected root in constant time.
 *
 * Every input may come from an untrusted party (a proof fetched from a log, a client's checkpoint), so every size,
 * hash length and the exact proof length are checked before any hashing, and a failure throws a ProofError naming
 * its reason. Sizes are bigint: proofs name trees of up to 2^64 − 1 leaves, beyond what a number holds exactly.
 */
import { HASH_SIZE, hashesEqual, nodeHash } from '../crypto/merkleHash.js';

/** Why a proof was refused; stable, for callers and tests to tell the cases apart. */
export type ProofFailure =
  | 'size_out_of_range'
  | 'index_out_of_range'
  | 'sizes_out_of_order'
  | 'consistency_from_empty_tree'
  | 'bad_hash_length'
  | 'wrong_proof_length'
  | 'root_mismatch';

/** A proof that does not hold, or inputs that cannot describe one. */
export class ProofError extends Error {
  readonly reason: ProofFailure;

  constructor(reason: ProofFailure, message: string) {
    super(message);
    this.name = 'ProofError';
    this.reason = reason;
  }
}

/**
 * The rule for consistency from the empty tree, and the message of the ProofError that applies it.
 *
 * RFC 9162 defines consistency proofs only from a non-empty tree: every tree extends the empty tree, so there is
 * nothing to prove. transparency-dev/merkle refuses size1 = 0 outright (even 0 → 0), and so does
 * `verifyConsistency`. The C2SP tlog-witness protocol, however, has a client send `old 0` with an empty proof when a
 * witness has not seen the log before. Whether to accept that is for the witness protocol layer to decide, before it
 * calls `verifyConsistency`, and only after checking that the proof is empty.
 */
export const FROM_EMPTY_TREE_NOTE = 'a consistency proof from the empty tree (size1 = 0) proves nothing and is refused; '
  + 'a protocol that accepts "old 0" (C2SP tlog-witness) must handle it before verifying';

const MAX_UINT64 = (1n << 64n) - 1n;

/** Checks that `proof` shows the leaf with hash `leafHash` at `index` in the tree of `size` leaves with root `root`. */
export function verifyInclusion(index: bigint, size: bigint, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): void {
  checkSize('size', size);
  checkSize('index', index);
  if (index >= size) throw new ProofError('index_out_of_range', `index ${index} is not in a tree of size ${size}`);
  checkHash('leaf hash', leafHash);
  checkHash('root', root);
  checkProofHashes(proof);

  const { inner, border } = decomposeInclusionProof(index, size);
  checkProofLength(proof, inner + border);
  const calculated = chainBorderRight(chainInner(leafHash, proof.slice(0, inner), index), proof.slice(inner));
  checkRoot('root', calculated, root);
}

/** Checks that `proof` shows the tree of `size2` leaves with root `root2` extends the tree of `size1` with `root1`. */
export function verifyConsistency(size1: bigint, size2: bigint, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  checkSize('size1', size1);
  checkSize('size2', size2);
  if (size2 < size1) throw new ProofError('sizes_out_of_order', `size2 ${size2} is smaller than size1 ${size1}`);
  if (size1 === 0n) throw new ProofError('consistency_from_empty_tree', FROM_EMPTY_TREE_NOTE);
  checkHash('root1', root1);
  checkHash('root2', root2);
  checkProofHashes(proof);

  if (size1 === size2) {
    checkProofLength(proof, 0);
    checkRoot('root2', root1, root2);
    return;
  }

  // The proof is the suffix of the inclusion proof of leaf size1 − 1 in the size2 tree above level `shift`, where
  // the old tree's last perfect subtree (of 2^shift leaves) sits; it starts with that subtree's hash, unless the
  // subtree is the whole old tree, whose root the verifier already has.
  const full = decomposeInclusionProof(size1 - 1n, size2);
  const shift = trailingZeros(size1);
  const inner = full.inner - shift;
  const oldTreeIsPerfect = size1 === 1n << BigInt(shift);
  const start = oldTreeIsPerfect ? 0 : 1;
  checkProofLength(proof, start + inner + full.border);
  const seed = oldTreeIsPerfect ? root1 : proof[0];
  const innerPart = proof.slice(start, start + inner);
  const borderPart = proof.slice(start + inner);
  const mask = (size1 - 1n) >> BigInt(shift);

  checkRoot('root1', chainBorderRight(chainInnerRight(seed, innerPart, mask), borderPart), root1);
  checkRoot('root2', chainBorderRight(chainInner(seed, innerPart, mask), borderPart), root2);
}

/**
 * Splits the inclusion proof of leaf `index` in a tree of `size` leaves where the paths to `index` and to the last
 * leaf, size − 1, meet: `inner` hashes below that point, then `border` hashes of left subtrees along the right border.
 */
function decomposeInclusionProof(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  return { inner, border };
}

/** Hashes up from `seed`, at position `index` on its level, with the siblings in `proof` (lowest first). */
function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  return proof.reduce<Uint8Array>((hash, sibling, level) =>
    ((index >> BigInt(level)) & 1n) === 0n ? nodeHash(hash, sibling) : nodeHash(sibling, hash), seed);
}

/**
 * Like chainInner, but only with the siblings to the left of the path: their right siblings did not exist yet in
 * the old tree, so this yields the old tree's version of the subtree.
 */
function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  return proof.reduce<Uint8Array>((hash, sibling, level) =>
    ((index >> BigInt(level)) & 1n) === 1n ? nodeHash(sibling, hash) : hash, seed);
}

/** Hashes up the tree's right border, where every sibling in the proof is a left subtree. */
function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  return proof.reduce<Uint8Array>((hash, sibling) => nodeHash(sibling, hash), seed);
}

function checkSize(name: string, value: bigint): void {
  if (value < 0n || value > MAX_UINT64) throw new ProofError('size_out_of_range', `${name} ${value} is outside 0 … 2^64 − 1`);
}

function checkHash(name: string, hash: Uint8Array): void {
  if (hash.length !== HASH_SIZE) throw new ProofError('bad_hash_length', `${name} has ${hash.length} bytes, not ${HASH_SIZE}`);
}

function checkProofHashes(proof: readonly Uint8Array[]): void {
  proof.forEach((hash, i) => checkHash(`proof[${i}]`, hash));
}

function checkProofLength(proof: readonly Uint8Array[], expected: number): void {
  if (proof.length !== expected) {
    throw new ProofError('wrong_proof_length', `the proof has ${proof.length} hash(es), not ${expected}`);
  }
}

function checkRoot(name: string, calculated: Uint8Array, expected: Uint8Array): void {
  if (!hashesEqual(calculated, expected)) throw new ProofError('root_mismatch', `the proof does not lead to ${name}`);
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function popCount(n: bigint): number {
  return n.toString(2).replaceAll('0', '').length;
}

/** Trailing zero bits of n > 0. */
function trailingZeros(n: bigint): number {
  let count = 0;
  for (let m = n; (m & 1n) === 0n; m >>= 1n) count += 1;
  return count;
}
