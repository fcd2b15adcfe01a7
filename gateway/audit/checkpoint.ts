/**
 * The text of a transparency-log checkpoint (c2sp.org/tlog-checkpoint), the body of the signed note a log publishes
 * for each tree head:
 *
 *   <origin>\n<tree size, decimal, no leading zeros>\n<base64 of the 32-byte RFC 6962 root hash>\n[<extension line>\n]…
 *
 * `parseCheckpoint` reads checkpoints from other parties (a witness's or a client's), so it is strict where the
 * transparency-dev parser is lenient: the root hash must be 32 bytes in canonical padded base64, extension lines
 * non-empty, the size a plain uint64, and a size-0 checkpoint must carry the empty tree's root.
 */
import { EMPTY_ROOT, HASH_SIZE, hashesEqual } from '../crypto/merkleHash.js';
import { decodeBase64Strict, isValidKeyName } from '../crypto/note.js';

export interface Checkpoint {
  /** The log's identity; by convention also the name of its note key. */
  readonly origin: string;
  readonly size: bigint;
  readonly rootHash: Buffer;
  /** Opaque lines after the root hash; NOT RECOMMENDED by C2SP, as monitors cannot audit them. */
  readonly extensionLines: readonly string[];
}

export interface CheckpointInput {
  readonly origin: string;
  readonly size: bigint;
  readonly rootHash: Uint8Array;
  readonly extensionLines?: readonly string[];
}

/** Which rule of the checkpoint format a text or field breaks. */
export type CheckpointFailure = 'malformed_text' | 'bad_origin' | 'bad_size' | 'bad_root_hash' | 'bad_extension_line';

/** A checkpoint text that breaks c2sp.org/tlog-checkpoint, or a field that cannot be written as one. */
export class CheckpointError extends Error {
  readonly reason: CheckpointFailure;

  constructor(reason: CheckpointFailure, message: string) {
    super(message);
    this.name = 'CheckpointError';
    this.reason = reason;
  }
}

const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * The checkpoint's note text. The origin must be usable as the log's note key name (no spaces, '+' or control
 * characters), which C2SP recommends and this log's own checkpoints always follow.
 */
export function formatCheckpoint({ origin, size, rootHash, extensionLines = [] }: CheckpointInput): string {
  if (!isValidKeyName(origin)) {
    throw new CheckpointError('bad_origin', 'the origin must be non-empty, without spaces, "+" or control characters');
  }
  checkFields(size, rootHash);
  for (const line of extensionLines) {
    if (!/^[^\u0000-\u001f\p{Cs}]+$/u.test(line)) {
      throw new CheckpointError('bad_extension_line', 'an extension line must be non-empty, without control characters');
    }
  }
  return [origin, size.toString(), Buffer.from(rootHash).toString('base64'), ...extensionLines].map((line) => `${line}\n`).join('');
}

/** Parses the text of a checkpoint note (as `openNote` returns it, ending in a newline). */
export function parseCheckpoint(text: string): Checkpoint {
  // Attacker-controlled: every line is checked against the specification before any field is used.
  if (!text.endsWith('\n') || /[\u0000-\u0009\u000b-\u001f]/.test(text)) {
    throw new CheckpointError('malformed_text', 'a checkpoint is lines ending in newlines, without control characters');
  }
  const [origin, sizeLine, rootLine, ...extensionLines] = text.slice(0, -1).split('\n');
  if (rootLine === undefined) throw new CheckpointError('malformed_text', 'a checkpoint has at least three lines');
  if (origin === '') throw new CheckpointError('bad_origin', 'the origin line is empty');
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeLine)) {
    throw new CheckpointError('bad_size', 'the tree size must be decimal digits without leading zeros');
  }
  const rootHash = decodeBase64Strict(rootLine);
  if (rootHash === undefined) throw new CheckpointError('bad_root_hash', 'the root hash is not canonical padded base64');
  const size = BigInt(sizeLine);
  checkFields(size, rootHash);
  if (extensionLines.some((line) => line === '')) throw new CheckpointError('bad_extension_line', 'extension lines must be non-empty');
  return { origin, size, rootHash, extensionLines };
}

function checkFields(size: bigint, rootHash: Uint8Array): void {
  if (size < 0n || size > MAX_UINT64) throw new CheckpointError('bad_size', `the tree size ${size} is outside 0 … 2^64 − 1`);
  if (rootHash.length !== HASH_SIZE) {
    throw new CheckpointError('bad_root_hash', `the root hash has ${rootHash.length} bytes, not ${HASH_SIZE}`);
  }
  // A tree of size 0 has exactly one root; any other is a false claim (tlog-witness answers it with 422).
  if (size === 0n && !hashesEqual(rootHash, EMPTY_ROOT)) {
    throw new CheckpointError('bad_root_hash', 'a checkpoint of size 0 must carry the empty tree\'s root');
  }
}
