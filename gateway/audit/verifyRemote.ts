/**
 * An auditor's check of a running gateway's log from the outside (`gateway audit verify-remote`), with no access to
 * its data directory: everything is fetched through the audit API and nothing fetched is trusted but what the log's
 * note key signed.
 *
 * The latest checkpoint is verified with the auditor's verifier key; every entry up to its size is fetched, checked
 * to be a canonical entry, and the RFC 6962 tree recomputed from them, whose root must be the signed one. The
 * checkpoint the auditor saved last time must be a prefix of that tree: its root is compared with the tree
 * recomputed at its size, and the gateway's consistency proof from it to the latest checkpoint must verify against
 * both signed roots. The gateway's inclusion proof of the last entry must verify as well, so that the proofs it hands
 * banks and enterprises come from the same tree. A log that forked, or was rewritten, truncated or edited since the
 * saved checkpoint fails one of these.
 */
import { hashesEqual, leafHash } from '../crypto/merkleHash.js';
import { NoteError, openNote } from '../crypto/note.js';
import type { NoteVerifier } from '../crypto/note.js';
import { GatewayError } from '../errors/index.js';
import { CheckpointError, parseCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { readEntryBytes } from './entryCheck.js';
import { ProofError, verifyConsistency, verifyInclusion } from './verify.js';
import { compactRange, verifierOf } from './verifyLog.js';

/** What a log offers its auditors, over whatever transport (the CLI uses the gateway's audit API). */
export interface RemoteAuditLog {
  /** The latest signed checkpoint, as note text (cosignature lines may follow). */
  checkpoint(): Promise<string>;
  /** Entries from `start` (inclusive) up to `end` (exclusive), in index order; may return fewer than asked, never none. */
  entries(start: number, end: number): Promise<readonly { readonly index: number; readonly entry: Buffer }[]>;
  consistencyProof(first: number, second: number): Promise<readonly Buffer[]>;
  inclusionProof(index: number, treeSize: number): Promise<readonly Buffer[]>;
}

export type RemoteProblemKind =
  /** The latest checkpoint served is not signed by the log's key for its origin. */
  | 'bad_checkpoint'
  /** An entry below the checkpoint's size was not served. */
  | 'missing'
  /** An entry served is not a canonical entry (see entryCheck.ts). */
  | 'not_canonical'
  /** The tree recomputed from the entries served is not the one the latest checkpoint signed. */
  | 'root_mismatch'
  /** The log no longer contains the tree of the saved checkpoint: it was rewritten, truncated or forked. */
  | 'inconsistent_with_saved_checkpoint'
  /** A proof served does not verify against the signed roots. */
  | 'bad_consistency_proof'
  | 'bad_inclusion_proof';

export interface RemoteProblem {
  readonly kind: RemoteProblemKind;
  readonly index?: number;
  readonly detail: string;
}

export interface TreeHead {
  readonly treeSize: number;
  readonly rootHash: Buffer;
}

export interface RemoteVerification {
  readonly ok: boolean;
  /** The latest checkpoint, verified with the verifier key (absent when it does not verify). */
  readonly latest?: TreeHead;
  readonly checkedEntries: number;
  /** The root recomputed from the entries served, unless one was missing. */
  readonly recomputedRoot?: Buffer;
  /** The saved checkpoint, and whether the log still contains its tree. */
  readonly saved?: TreeHead & { readonly contained: boolean };
  /** The sizes of the consistency proof checked, when there was one to check. */
  readonly consistencyChecked?: { readonly first: number; readonly second: number };
  /** The entry whose inclusion proof was checked. */
  readonly inclusionChecked?: number;
  readonly problems: readonly RemoteProblem[];
  /** The latest checkpoint's note, to keep as the next saved checkpoint once it checked out. */
  readonly latestNote: string;
}

export interface VerifyRemoteOptions {
  /** The log's note verifier key, `<name>+<key id>+<base64 key>`. */
  readonly verifierKey: string;
  /** The origin every checkpoint must name. */
  readonly origin: string;
  /** A checkpoint note the auditor saved earlier. */
  readonly savedCheckpoint?: string;
}

export async function verifyRemoteLog(log: RemoteAuditLog, options: VerifyRemoteOptions): Promise<RemoteVerification> {
  const verifier = verifierOf(options.verifierKey);
  let saved: TreeHead | undefined;
  if (options.savedCheckpoint !== undefined) {
    const opened = openCheckpoint(options.savedCheckpoint, verifier, options.origin);
    if (typeof opened === 'string') throw new GatewayError('invalid_argument', `the saved checkpoint ${opened}`);
    saved = treeHead(opened);
  }
  const latestNote = await log.checkpoint();
  const opened = openCheckpoint(latestNote, verifier, options.origin);
  if (typeof opened === 'string') {
    return { ok: false, checkedEntries: 0, problems: [{ kind: 'bad_checkpoint', detail: `the gateway's latest checkpoint ${opened}` }], latestNote };
  }
  const latest = treeHead(opened);
  const problems: RemoteProblem[] = [];

  if (saved !== undefined && saved.treeSize > latest.treeSize) {
    problems.push({
      kind: 'inconsistent_with_saved_checkpoint',
      detail: `the latest checkpoint is of size ${latest.treeSize}, smaller than the saved one of size ${saved.treeSize}: the log was truncated or forked`,
    });
    return { ok: false, latest, checkedEntries: 0, saved: { ...saved, contained: false }, problems, latestNote };
  }

  const tree = compactRange();
  let savedContained = saved?.treeSize === 0;
  let lastLeaf: Buffer | undefined;
  let next = 0;
  let gap = false;
  while (next < latest.treeSize && !gap) {
    const page = await log.entries(next, latest.treeSize);
    if (page.length === 0) gap = true;
    for (const { index, entry } of page) {
      if (index !== next) {
        gap = true;
        break;
      }
      const reading = readEntryBytes(entry);
      if ('problem' in reading) problems.push({ kind: 'not_canonical', index, detail: `entry ${index} ${reading.problem}` });
      lastLeaf = leafHash(entry);
      tree.append(lastLeaf);
      next = index + 1;
      if (saved !== undefined && next === saved.treeSize) {
        savedContained = hashesEqual(tree.root(), saved.rootHash);
        if (!savedContained) {
          problems.push({
            kind: 'inconsistent_with_saved_checkpoint', index: 0,
            detail: `the tree of the first ${saved.treeSize} entries served does not have the saved checkpoint's root: the log was rewritten or forked since it was saved`,
          });
        }
      }
      if (next === latest.treeSize) break;
    }
  }
  if (gap) problems.push({ kind: 'missing', index: next, detail: `entry ${next} of the ${latest.treeSize} the latest checkpoint signed was not served` });
  const complete = next === latest.treeSize;
  const recomputedRoot = complete ? tree.root() : undefined;
  if (recomputedRoot !== undefined && !hashesEqual(recomputedRoot, latest.rootHash)) {
    problems.push({
      kind: 'root_mismatch',
      detail: `the ${latest.treeSize} entries served do not hash to the root the latest checkpoint signed: they are not the entries of the signed log`,
    });
  }

  let consistencyChecked: RemoteVerification['consistencyChecked'];
  if (saved !== undefined && saved.treeSize > 0 && saved.treeSize < latest.treeSize) {
    const proof = await log.consistencyProof(saved.treeSize, latest.treeSize);
    const failure = proofFailure(() => verifyConsistency(BigInt(saved.treeSize), BigInt(latest.treeSize), proof, saved.rootHash, latest.rootHash));
    if (failure) problems.push({ kind: 'bad_consistency_proof', detail: `the consistency proof from size ${saved.treeSize} to ${latest.treeSize} does not verify: ${failure}` });
    consistencyChecked = { first: saved.treeSize, second: latest.treeSize };
  }

  let inclusionChecked: number | undefined;
  if (complete && lastLeaf !== undefined) {
    const index = latest.treeSize - 1;
    const proof = await log.inclusionProof(index, latest.treeSize);
    const failure = proofFailure(() => verifyInclusion(BigInt(index), BigInt(latest.treeSize), lastLeaf as Buffer, proof, latest.rootHash));
    if (failure) problems.push({ kind: 'bad_inclusion_proof', index, detail: `the inclusion proof of entry ${index} in the tree of size ${latest.treeSize} does not verify: ${failure}` });
    inclusionChecked = index;
  }

  return {
    ok: problems.length === 0,
    latest,
    checkedEntries: next,
    ...(recomputedRoot === undefined ? {} : { recomputedRoot }),
    ...(saved === undefined ? {} : { saved: { ...saved, contained: savedContained } }),
    ...(consistencyChecked === undefined ? {} : { consistencyChecked }),
    ...(inclusionChecked === undefined ? {} : { inclusionChecked }),
    problems,
    latestNote,
  };
}

function proofFailure(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof ProofError) return `${error.reason}: ${error.message}`;
    throw error;
  }
}

function treeHead(checkpoint: Checkpoint): TreeHead {
  if (checkpoint.size > BigInt(Number.MAX_SAFE_INTEGER)) throw new GatewayError('invalid_argument', `a checkpoint of size ${checkpoint.size} is beyond what can be checked here`);
  return { treeSize: Number(checkpoint.size), rootHash: checkpoint.rootHash };
}


/** A checkpoint signed by the log's key for the origin, or what is wrong with it (to follow "the … checkpoint"). */
function openCheckpoint(note: string, verifier: NoteVerifier, origin: string): Checkpoint | string {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(openNote(Buffer.from(note, 'utf8'), [verifier]).text);
  } catch (cause) {
    if (cause instanceof NoteError || cause instanceof CheckpointError) return `is not a checkpoint signed by the log's key: ${cause.message}`;
    throw cause;
  }
  if (checkpoint.origin !== origin) return `is of the log "${checkpoint.origin}", not "${origin}"`;
  return checkpoint;
}
