/**
 * The gateway checks its own log. The last checkpoint it signed is also kept outside the database, in a small file
 * beside it (`audit-checkpoint.txt`, written atomically after each signature); an operator may also point it at a
 * witness's copy of a checkpoint. At start the stored log must extend every such anchor — not smaller, the same root
 * at the anchor's size, the anchor's own row still stored, no stray hashes past the last entry, and the entries not
 * yet covered by a signature hashing to their stored leaves — and before every signature the new tree must be
 * consistent with the last signed one, by a consistency proof checked with the independent verifier (verify.ts).
 *
 * What it does not do at start is re-read every entry (that is `gateway audit verify`, O(n)): an entry changed
 * without its stored hashes cannot make the gateway sign anything, because signatures cover the stored hashes,
 * which still commit to the original entry; `audit verify` names it.
 */
import fs from 'node:fs';
import { hashesEqual, leafHash } from '../crypto/merkleHash.js';
import { NoteError, openNote, parseVerifierKey } from '../crypto/note.js';
import { GatewayError } from '../errors/index.js';
import type { NoteKey } from '../keys/index.js';
import type { AuditStore, StoredCheckpoint } from '../store/index.js';
import { writeFileAtomically } from '../store/index.js';
import { CheckpointError, parseCheckpoint } from './checkpoint.js';
import type { AuditLog } from './log.js';
import { storedHashCount, storedHashIndex } from './merkle.js';
import { ProofError, verifyConsistency } from './verify.js';

/** A checkpoint whose signature by the log's key was verified: its size, root and note. */
export interface SignedCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  readonly note: string;
  /** Where it was read from (a file, or the database), for messages. */
  readonly from: string;
}

export interface AnchorFiles {
  /** The gateway's own copy of its latest checkpoint, which it writes. */
  readonly checkpointFile: string;
  /** A witness's (or auditor's) copy the log must also extend; read only. */
  readonly witnessCheckpointFile?: string | undefined;
}

/** Entries past the latest anchor whose leaf hashes are compared at start, per read. */
const TAIL_PAGE = 5000;

/** The remedy every refusal names. */
export function investigate(files: AnchorFiles): string {
  return `Writes are stopped. Investigate with \`gateway audit verify --checkpoint ${files.checkpointFile}\`, `
    + 'and restore audit.sqlite from a backup that extends that checkpoint';
}

export function inconsistent(detail: string, files: AnchorFiles): GatewayError {
  return new GatewayError('audit_log_inconsistent', `${detail}. ${investigate(files)}`, { details: { checkpoint_file: files.checkpointFile } });
}

/** Opens a signed checkpoint note of this log; throws audit_log_inconsistent naming `from` if it is not one. */
export function openSignedCheckpoint(note: string, key: Pick<NoteKey, 'origin' | 'verifierKey'>, from: string, files: AnchorFiles): SignedCheckpoint {
  try {
    const checkpoint = parseCheckpoint(openNote(Buffer.from(note, 'utf8'), [parseVerifierKey(key.verifierKey)]).text);
    if (checkpoint.origin !== key.origin) throw inconsistent(`${from} is a checkpoint of "${checkpoint.origin}", not of this log ("${key.origin}")`, files);
    return { size: Number(checkpoint.size), root: Buffer.from(checkpoint.rootHash), note, from };
  } catch (error) {
    if (error instanceof NoteError || error instanceof CheckpointError) {
      throw inconsistent(`${from} is not a checkpoint signed with this log's note key (${error.message})`, files);
    }
    throw error;
  }
}

/** The checkpoint in `file`, or undefined when there is no such file. */
export function readCheckpointFile(file: string, key: Pick<NoteKey, 'origin' | 'verifierKey'>, files: AnchorFiles): SignedCheckpoint | undefined {
  let note: string;
  try {
    note = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw inconsistent(`${file} cannot be read (${(error as Error).message})`, files);
  }
  return openSignedCheckpoint(note, key, file, files);
}

export function writeCheckpointFile(file: string, checkpoint: StoredCheckpoint): void {
  writeFileAtomically(file, checkpoint.note);
}

/**
 * Throws audit_log_inconsistent unless the stored tree of `size` entries extends `anchor`: proved with a consistency
 * proof from the stored hashes, checked by the verifier that trusts nothing stored. Returns the root at `size`.
 */
export async function checkExtends(log: AuditLog, anchor: SignedCheckpoint, size: number, files: AnchorFiles): Promise<Buffer> {
  if (size < anchor.size) {
    throw inconsistent(`the audit log holds ${size} entries, but the gateway signed a checkpoint of size ${anchor.size} (${anchor.from}): entries were removed`, files);
  }
  let root: Buffer;
  try {
    root = await log.rootAt(size);
    if (anchor.size > 0) verifyConsistency(BigInt(anchor.size), BigInt(size), await log.consistencyProof(anchor.size, size), anchor.root, root);
  } catch (error) {
    if (error instanceof ProofError || error instanceof GatewayError) {
      throw inconsistent(`the stored audit log of ${size} entries does not extend the checkpoint of size ${anchor.size} the gateway signed `
        + `(${anchor.from}): ${error instanceof ProofError ? 'the consistency proof fails, so entries before it were rewritten' : error.message}`, files);
    }
    throw error;
  }
  return root;
}

async function isMissingHash(store: AuditStore, index: number): Promise<boolean> {
  try {
    await store.readHashes([index]);
    return false;
  } catch (error) {
    if (error instanceof GatewayError) return true;
    throw error;
  }
}

/** The entries from `from` on, not yet under any signature, must hash to their stored leaves: the next checkpoint covers them. */
async function checkTail(store: AuditStore, from: number, size: number, files: AnchorFiles): Promise<void> {
  for (let start = from; start < size; start += TAIL_PAGE) {
    const end = Math.min(size, start + TAIL_PAGE);
    const entries = await store.entries({ start, end, limit: TAIL_PAGE });
    if (entries.length !== end - start) throw inconsistent(`entries in ${start}…${end - 1} are missing from the audit log`, files);
    const stored = await store.readHashes(entries.map((entry) => storedHashIndex(0, entry.index)));
    entries.forEach((entry, offset) => {
      if (!hashesEqual(leafHash(entry.entry), stored[offset] as Buffer)) {
        throw inconsistent(`audit entry ${entry.index} does not hash to its stored leaf hash: it was changed after it was written`, files);
      }
    });
  }
}

export interface StartCheckOptions {
  readonly store: AuditStore;
  readonly log: AuditLog;
  readonly key: Pick<NoteKey, 'origin' | 'verifierKey'>;
  readonly files: AnchorFiles;
  readonly warn: (message: string) => void;
}

/**
 * The check at start. Returns the latest checkpoint the gateway signed (undefined for a log never checkpointed), from
 * which the checkpointer goes on; throws audit_log_inconsistent when the stored log does not extend an anchor.
 */
export async function checkLogAtStart(options: StartCheckOptions): Promise<SignedCheckpoint | undefined> {
  const { store, log, key, files } = options;
  const size = await store.size();
  // The row is written before the file, so the database's latest checkpoint is the file's or a later one.
  const latestRow = await store.latestCheckpoint();
  const stored = latestRow && openSignedCheckpoint(latestRow.note, key, `the audit database's checkpoint of size ${latestRow.treeSize}`, files);
  if (stored && (stored.size !== latestRow.treeSize || !hashesEqual(stored.root, latestRow.rootHash))) {
    throw inconsistent(`the audit database stores a checkpoint as size ${latestRow.treeSize} that signs another tree`, files);
  }
  const own = readCheckpointFile(files.checkpointFile, key, files);
  const witness = files.witnessCheckpointFile === undefined ? undefined : readCheckpointFile(files.witnessCheckpointFile, key, files);
  if (files.witnessCheckpointFile !== undefined && witness === undefined) {
    throw inconsistent(`GATEWAY_AUDIT_WITNESS_CHECKPOINT names ${files.witnessCheckpointFile}, which does not exist`, files);
  }

  if (own !== undefined) {
    const row = await store.checkpointAt(own.size);
    if (row === undefined || !hashesEqual(row.rootHash, own.root)) {
      throw inconsistent(`the audit database no longer holds the checkpoint of size ${own.size} that ${own.from} records: checkpoint rows were removed or changed`, files);
    }
  } else if (stored !== undefined) {
    options.warn(`${files.checkpointFile} is missing: the log is checked against its latest stored checkpoint (size ${stored.size}), and the file is written again`);
  }

  const anchors = [own, stored, witness].filter((anchor): anchor is SignedCheckpoint => anchor !== undefined).sort((a, b) => a.size - b.size);
  for (const anchor of anchors) await checkExtends(log, anchor, size, files);
  // Stored hashes are written with their entry: one past the last entry's means entries were cut off.
  if (!(await isMissingHash(store, storedHashCount(size)))) {
    throw inconsistent(`the audit log has stored hashes past its last entry, ${size - 1}: later entries were removed`, files);
  }
  const latest = anchors.at(-1);
  await checkTail(store, latest?.size ?? 0, size, files);
  const signed = stored && (own === undefined || stored.size > own.size) ? stored : own;
  if (signed !== undefined && signed !== own) writeCheckpointFile(files.checkpointFile, latestRow as StoredCheckpoint);
  return signed;
}
