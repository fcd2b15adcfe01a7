/**
 * The proof files an auditor checks offline (`gateway audit verify-proof`): the JSON bodies of
 * GET /v1/audit/proofs/inclusion and GET /v1/audit/proofs/consistency, saved as received.
 *
 *   inclusion:   {"leaf_index", "tree_size", "leaf_hash", "proof": [...], "root_hash"}
 *   consistency: {"first_size", "second_size", "first_root", "second_root", "proof": [...]}
 *
 * Hashes are 32 bytes in canonical padded standard base64; sizes and indexes JSON integers up to 2^64 − 1, read
 * exactly (JSON.parse would round those above 2^53). Other members are ignored. The file comes from outside, so
 * every member is checked before it is used; a file that breaks these rules is refused as malformed, which is not
 * the same answer as a well-formed proof that does not hold.
 */
import { randomUUID } from 'node:crypto';
import { HASH_SIZE } from '../crypto/merkleHash.js';
import { decodeBase64Strict } from '../crypto/note.js';
import { GatewayError } from '../errors/index.js';

export type ProofType = 'inclusion' | 'consistency';

export interface InclusionProofFile {
  readonly type: 'inclusion';
  readonly leafIndex: bigint;
  readonly treeSize: bigint;
  readonly leafHash: Buffer;
  readonly proof: readonly Buffer[];
  readonly rootHash: Buffer;
}

export interface ConsistencyProofFile {
  readonly type: 'consistency';
  readonly firstSize: bigint;
  readonly secondSize: bigint;
  readonly firstRoot: Buffer;
  readonly secondRoot: Buffer;
  readonly proof: readonly Buffer[];
}

export type ProofFile = InclusionProofFile | ConsistencyProofFile;

const MAX_UINT64 = (1n << 64n) - 1n;

/** Reads a proof file of the given type; throws invalid_argument, naming the member, when it is malformed. */
export function parseProofFile(type: ProofType, text: string): ProofFile {
  const body = parseExactJson(text);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw malformed('is not a JSON object');
  const members = body as Readonly<Record<string, unknown>>;
  if (type === 'inclusion') {
    return {
      type,
      leafIndex: uint64(members, 'leaf_index'),
      treeSize: uint64(members, 'tree_size'),
      leafHash: hash(members['leaf_hash'], '"leaf_hash"'),
      proof: proofHashes(members),
      rootHash: hash(members['root_hash'], '"root_hash"'),
    };
  }
  return {
    type,
    firstSize: uint64(members, 'first_size'),
    secondSize: uint64(members, 'second_size'),
    firstRoot: hash(members['first_root'], '"first_root"'),
    secondRoot: hash(members['second_root'], '"second_root"'),
    proof: proofHashes(members),
  };
}

/**
 * JSON.parse, except that integers become BigInts. Each integer token outside strings is first rewritten as a string
 * carrying a tag of this call's own (random, so no string in the file can pose as one), which the reviver turns back.
 */
function parseExactJson(text: string): unknown {
  const tag = `\u0000${randomUUID()}:`;
  // Strings are matched first so that digits inside them are left alone; tokens JSON forbids (leading zeros) are
  // left as they are for JSON.parse to refuse.
  const tagged = text.replace(/"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d+(?![\d.eE])/g, (token) =>
    (token.startsWith('"') || !/^-?(?:0|[1-9]\d*)$/.test(token) ? token : JSON.stringify(`${tag}${token}`)));
  try {
    return JSON.parse(tagged, (_key, value: unknown) =>
      (typeof value === 'string' && value.startsWith(tag) ? BigInt(value.slice(tag.length)) : value));
  } catch (cause) {
    throw new GatewayError('invalid_argument', `the proof file is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function uint64(members: Readonly<Record<string, unknown>>, name: string): bigint {
  const value = members[name];
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT64) throw malformed(`has no "${name}" integer in 0 … 2^64 − 1`);
  return value;
}

function hash(value: unknown, what: string): Buffer {
  const decoded = typeof value === 'string' ? decodeBase64Strict(value) : undefined;
  if (decoded === undefined) throw malformed(`has no ${what} in padded standard base64`);
  if (decoded.length !== HASH_SIZE) throw malformed(`has a ${what} of ${decoded.length} bytes, not ${HASH_SIZE}`);
  return decoded;
}

function proofHashes(members: Readonly<Record<string, unknown>>): Buffer[] {
  const proof = members['proof'];
  if (!Array.isArray(proof)) throw malformed('has no "proof" array');
  return proof.map((item: unknown, position) => hash(item, `"proof"[${position}]`));
}

function malformed(what: string): GatewayError {
  return new GatewayError('invalid_argument', `the proof file ${what}`);
}
