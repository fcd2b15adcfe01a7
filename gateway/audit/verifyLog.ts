/**
 * A full audit of the audit log as stored: what an auditor runs (`gateway audit verify`) to learn whether anything in
 * audit.sqlite was changed, removed, reordered or cut off since it was written, and where.
 *
 * Nothing stored is trusted. The entries are read in index order, a page at a time, each checked to be a canonical
 * entry whose indexed columns agree with it, and the RFC 6962 tree is recomputed from them in memory — as a stack of
 * perfect-subtree roots (a compact range), so O(log n) hashes whatever the size, and without the tree code that
 * wrote the stored hashes. Along the way every stored hash is compared with its recomputation, and at each signed
 * checkpoint's size the recomputed root with the checkpoint's. The stored hashes only locate a change made without
 * them; the signed checkpoints (and a checkpoint an auditor saved earlier) catch one made together with them.
 */
import { EMPTY_ROOT, hashesEqual, leafHash, nodeHash } from '../crypto/merkleHash.js';
import { NoteError, openNote, parseVerifierKey } from '../crypto/note.js';
import type { NoteVerifier } from '../crypto/note.js';
import { GatewayError } from '../errors/index.js';
import type { AuditStore, StoredAuditEntry, StoredCheckpoint } from '../store/index.js';
import { CheckpointError, parseCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import { readEntryBytes } from './entryCheck.js';
import { MAX_TREE_SIZE, splitStoredHashIndex, storedHashCount, storedHashIndex } from './merkle.js';

export type LogProblemKind =
  /** An index below the log's size has no entry. */
  | 'missing'
  /**
   * The entry's leaf hash is not the stored one: the entry was changed (or its stored leaf hash, when no later
   * checkpoint tells).
   */
  | 'modified'
  /** The entry is one stored for another index. */
  | 'reordered'
  /** The entry's bytes are not a canonical entry (see entryCheck.ts). */
  | 'not_canonical'
  /** The kind, actor, subject, consent or time columns, by which entries are filtered, disagree with the entry. */
  | 'column_mismatch'
  /**
   * A stored hash is not the one recomputed from the entries, which a later checkpoint confirms (for a leaf hash) or
   * which is an interior hash: proofs served from it would not verify.
   */
  | 'stored_hash_mismatch'
  /** A stored hash is absent; the stored hashes after it were not compared. */
  | 'missing_hash'
  /** The recomputed root is not a signed checkpoint's, though the stored hashes agree: entries and hashes were rewritten. */
  | 'rewritten'
  /** The log holds fewer entries than a checkpoint, or its stored hashes, say it had. */
  | 'truncated'
  /** A stored checkpoint whose note does not verify, or does not say what its row says. */
  | 'bad_checkpoint'
  /** The log's tree at the saved checkpoint's size does not have the saved root: the log was rewritten (a fork). */
  | 'inconsistent_with_saved_checkpoint'
  /** The database file itself is damaged (SQLite's quick_check, or a malformed page met while reading). */
  | 'database_damaged';

export interface LogProblem {
  readonly kind: LogProblemKind;
  /** The first entry index concerned, when it is known. */
  readonly index?: number;
  /** The tree size of the checkpoint concerned. */
  readonly treeSize?: number;
  readonly detail: string;
}

export interface LogVerification {
  readonly ok: boolean;
  /** The log's size as stored: one more than its highest entry index. */
  readonly treeSize: number;
  readonly checkedEntries: number;
  /** Stored checkpoints whose note verified and whose root was compared with the recomputed one. */
  readonly checkpointsChecked: number;
  /** Each saved checkpoint given, in the order given, and whether its root was compared. */
  readonly savedCheckpoints: readonly SavedCheckpointResult[];
  /** The recomputed root of the whole log, unless an entry is missing. */
  readonly rootHash?: Buffer;
  /** In index order of discovery, at most MAX_PROBLEMS; `omittedProblems` more were found. */
  readonly problems: readonly LogProblem[];
  readonly omittedProblems: number;
  /** The lowest index any problem names. */
  readonly firstBadIndex?: number;
}

/** A signed checkpoint kept outside the log (an auditor's, a witness's, the gateway's checkpoint file). */
export interface SavedCheckpoint {
  /** What to call it in the report: usually its file. */
  readonly label: string;
  /** The signed note's text. */
  readonly note: string;
}

export interface SavedCheckpointResult {
  readonly label: string;
  readonly treeSize: number;
  /** The root it signs for that size. */
  readonly rootHash: Buffer;
  /** False when the tree could not be recomputed up to its size (an entry is missing, or it is beyond the log). */
  readonly checked: boolean;
}

export interface VerifyLogOptions {
  /** The log's note verifier key, `<name>+<key id>+<base64 key>`. */
  readonly verifierKey: string;
  /** The origin every checkpoint must name. */
  readonly origin: string;
  /** Signed checkpoints saved earlier; the log must still contain each one's tree. */
  readonly savedCheckpoints?: readonly SavedCheckpoint[];
  /** Entries read per query. */
  readonly pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 10_000;
/** Problems listed at most; a log damaged throughout would otherwise produce one per entry. */
const MAX_PROBLEMS = 1000;
/** Mismatched leaf hashes remembered to recognise a later entry as one moved from there; bounds the memory. */
const MAX_REMEMBERED_MISMATCHES = 10_000;

/** A checkpoint whose signature, origin and row were checked: its signed size and root. */
interface TrustedCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  /** The saved checkpoint's position in the options, or undefined for a stored one. */
  readonly saved: number | undefined;
}

/** A mutable problem while the log is read; `kind` and `detail` may be refined when a moved entry is recognised. */
interface OpenProblem {
  kind: LogProblemKind;
  index?: number;
  treeSize?: number;
  detail: string;
}

export async function verifyLog(store: AuditStore, options: VerifyLogOptions): Promise<LogVerification> {
  const verifier = verifierOf(options.verifierKey);
  const saved = (options.savedCheckpoints ?? []).map((checkpoint) => ({ label: checkpoint.label, ...openSaved(checkpoint, verifier, options.origin) }));
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new GatewayError('invalid_argument', 'the page size must be a positive integer');

  // Checkpoints first, then the size: the log only grows, so a checkpoint read before the size that is beyond it
  // means entries were removed, not that a server appended in between.
  const storedCheckpoints = await store.checkpoints();
  const size = await store.size();

  const problems: OpenProblem[] = [];
  let omittedProblems = 0;
  /**
   * The highest index of an entry found changed (modified, moved, or under a mismatched stored subtree): a root or
   * stored hash over it that does not match is explained by it and not reported again.
   */
  let highestChanged = -1;
  const add = (problem: OpenProblem): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
    else omittedProblems += 1;
  };

  // The schedule of roots to compare, by size; the saved checkpoint joins the stored ones.
  const schedule: TrustedCheckpoint[] = [];
  for (const stored of storedCheckpoints) {
    const checked = checkStoredCheckpoint(stored, verifier, options.origin);
    if (typeof checked === 'string') add({ kind: 'bad_checkpoint', treeSize: stored.treeSize, detail: checked });
    else schedule.push(checked);
  }
  const latest = schedule.at(-1);
  const claims: string[] = [];
  if (latest !== undefined && latest.size > size) claims.push(`it signed a checkpoint of size ${latest.size}`);
  saved.forEach((checkpoint, position) => {
    if (checkpoint.size > BigInt(size)) claims.push(`${checkpoint.label} is of size ${checkpoint.size}`);
    else if (checkpoint.size > 0n) schedule.push({ size: Number(checkpoint.size), root: checkpoint.rootHash, saved: position });
  });
  if (claims.length > 0) {
    add({ kind: 'truncated', index: size, detail: `the log has ${size} entries, but ${claims.join(' and ')}: entries from ${size} on were removed` });
  }
  schedule.sort((a, b) => a.size - b.size);
  let nextCheck = 0;

  const tree = compactRange();
  let checkpointsChecked = 0;
  // Every log extends the empty tree, whose root parseCheckpoint has already checked.
  const savedChecked = saved.map((checkpoint) => checkpoint.size === 0n);
  /** The largest size at which a stored checkpoint's root matched: entries below it are the signed ones. */
  let lastMatchedSize = 0;
  /** Set at the first missing entry: the tree cannot be recomputed past it. */
  let broken = false;
  /** Cleared at the first missing stored hash: the stored hashes after it are not compared. */
  let hashesUsable = true;
  /**
   * 'modified' problems since the last matching checkpoint: when the next checkpoint matches, those entries are the
   * signed ones after all, and only their stored leaf hashes were changed.
   */
  let unconfirmed: OpenProblem[] = [];
  /** Leaf hashes stored for earlier mismatched indexes, to recognise an entry moved from there. */
  const mismatched = new Map<string, { index: number; problem: OpenProblem }>();

  const compareRoots = (treeSize: number): void => {
    for (; nextCheck < schedule.length && (schedule[nextCheck] as TrustedCheckpoint).size <= treeSize; nextCheck++) {
      const checkpoint = schedule[nextCheck] as TrustedCheckpoint;
      if (checkpoint.size !== treeSize || broken) continue;
      const matches = hashesEqual(tree.root(), checkpoint.root);
      if (checkpoint.saved !== undefined) {
        savedChecked[checkpoint.saved] = true;
        const label = (saved[checkpoint.saved] as { label: string }).label;
        if (!matches) {
          const fork = storedCheckpoints.find((stored) => stored.treeSize === treeSize);
          const signedTwice = fork !== undefined && !hashesEqual(fork.rootHash, checkpoint.root)
            ? `; the log also holds a checkpoint of size ${treeSize} with another root, so it signed two trees of that size (a split view)`
            : '';
          add({
            kind: 'inconsistent_with_saved_checkpoint', treeSize,
            detail: `the tree of the first ${treeSize} entries does not have the root of ${label}: some entry in 0…${treeSize - 1} `
              + `is not the one the log had when it signed that checkpoint${signedTwice}`,
          });
        }
        continue;
      }
      checkpointsChecked += 1;
      if (matches) {
        lastMatchedSize = treeSize;
        for (const problem of unconfirmed.filter((candidate) => candidate.kind === 'modified')) {
          problem.kind = 'stored_hash_mismatch';
          problem.detail = `the stored leaf hash of entry ${problem.index} is not the entry's, though the entry is the one the `
            + `checkpoint of size ${treeSize} signed: the stored hash was changed, and proofs served from it would not verify`;
        }
        unconfirmed = [];
      } else if (highestChanged < lastMatchedSize) {
        // Not explained by a problem found since the last matching checkpoint: the stored hashes were rewritten with
        // the entries, and only the signature tells.
        add({
          kind: 'rewritten', index: lastMatchedSize, treeSize,
          detail: `the tree of the first ${treeSize} entries does not have the root the log signed for that size, though every stored `
            + `hash matches the entries: entries were rewritten together with their stored hashes; the earliest detectable change is in `
            + `${lastMatchedSize}…${treeSize - 1}${lastMatchedSize > 0 ? ` (the checkpoint of size ${lastMatchedSize} still matches)` : ''}`,
        });
        highestChanged = treeSize - 1;
      }
      if (!matches) unconfirmed = [];
    }
  };

  const check = (entry: StoredAuditEntry, stored: readonly (Buffer | undefined)[], firstStored: number): void => {
    const index = entry.index;
    const leaf = leafHash(entry.entry);
    const at = storedHashIndex(0, index) - firstStored;
    const storedLeaf = stored[at];
    if (storedLeaf !== undefined && !hashesEqual(storedLeaf, leaf)) {
      const movedFrom = mismatched.get(leaf.toString('hex'));
      if (movedFrom !== undefined) {
        // This entry is the one stored for an earlier index: entries were moved or swapped, not (only) edited.
        movedFrom.problem.kind = 'reordered';
        movedFrom.problem.detail = `entry ${movedFrom.index} is not the one stored for its index, which entry ${index} holds: `
          + 'entries were moved or swapped';
        highestChanged = index;
        mismatched.delete(leaf.toString('hex'));
      } else {
        const problem: OpenProblem = {
          kind: 'modified', index,
          detail: `entry ${index} does not hash to its stored leaf hash: the entry (or its stored hash) was changed`,
        };
        add(problem);
        if (unconfirmed.length < MAX_PROBLEMS) unconfirmed.push(problem);
        highestChanged = index;
        if (mismatched.size < MAX_REMEMBERED_MISMATCHES) mismatched.set(storedLeaf.toString('hex'), { index, problem });
      }
    }

    const reading = readEntryBytes(entry.entry);
    if ('problem' in reading) add({ kind: 'not_canonical', index, detail: `entry ${index} ${reading.problem}` });
    else {
      const columns = mismatchedColumns(entry, reading.entry);
      if (columns.length > 0) {
        add({ kind: 'column_mismatch', index, detail: `the ${columns.join(', ')} column(s) of entry ${index} disagree with the entry` });
      }
    }

    if (broken) return;
    // Record `index` stored, after its leaf hash, the roots of the perfect subtrees it completed, smallest first.
    tree.append(leaf).forEach((hash, offset) => {
      const level = offset + 1;
      const storedNode = stored[at + level];
      const first = index + 1 - 2 ** level;
      if (storedNode !== undefined && !hashesEqual(storedNode, hash) && highestChanged < first) {
        add({
          kind: 'stored_hash_mismatch', index: first,
          detail: `the stored hash of entries ${first}…${index} is not the one recomputed from them: the stored hashes were changed, `
            + 'and proofs served from them would not verify',
        });
        highestChanged = index;
      }
    });
    compareRoots(index + 1);
  };

  const reportGap = (from: number, to: number): void => {
    add({ kind: 'missing', index: from, detail: to - from === 1 ? `entry ${from} is missing` : `entries ${from}…${to - 1} are missing` });
    broken = true;
  };

  let expected = 0;
  let checkedEntries = 0;
  while (expected < size) {
    const page = await store.entries({ start: expected, end: size, limit: pageSize });
    const last = page.at(-1);
    if (last === undefined) break;
    const firstStored = storedHashCount(expected);
    let stored: (Buffer | undefined)[] = [];
    if (hashesUsable) {
      const read = await readUntilMissing(store, firstStored, storedHashCount(last.index + 1));
      stored = read.hashes;
      if (read.missingAt !== undefined) {
        const { level, n } = splitStoredHashIndex(read.missingAt);
        const record = (n + 1) * 2 ** level - 1;
        add({
          kind: 'missing_hash', index: record,
          detail: `stored hash ${read.missingAt} (written with entry ${record}) is missing; later stored hashes were not compared`,
        });
        hashesUsable = false;
      }
    }
    for (const entry of page) {
      if (entry.index !== expected) reportGap(expected, entry.index);
      check(entry, stored, firstStored);
      checkedEntries += 1;
      expected = entry.index + 1;
    }
  }
  if (expected < size) reportGap(expected, size);

  if (claims.length === 0 && size < MAX_TREE_SIZE && hashesUsable && await storedHashExists(store, storedHashCount(size)) && await store.size() === size) {
    // A hash is written in the same transaction as its entry, and the size is read after the hash: entries past the
    // last one were there and are gone.
    add({ kind: 'truncated', index: size, detail: `stored hashes continue past the last entry, ${size - 1}: later entries were removed` });
  }

  const finished: LogProblem[] = problems.map((problem) => ({ ...problem }));
  const indexes = finished.flatMap((problem) => (problem.index === undefined ? [] : [problem.index]));
  return {
    ok: finished.length === 0,
    treeSize: size,
    checkedEntries,
    checkpointsChecked,
    savedCheckpoints: saved.map((checkpoint, position) => ({
      label: checkpoint.label, treeSize: Number(checkpoint.size), rootHash: Buffer.from(checkpoint.rootHash), checked: savedChecked[position] as boolean,
    })),
    ...(broken ? {} : { rootHash: tree.root() }),
    problems: finished,
    omittedProblems,
    ...(indexes.length > 0 ? { firstBadIndex: Math.min(...indexes) } : {}),
  };
}

/** The stored hashes [from, to), as far as they are present: those from the first missing one on are undefined. */
async function readUntilMissing(store: AuditStore, from: number, to: number): Promise<{ hashes: (Buffer | undefined)[]; missingAt?: number }> {
  try {
    return { hashes: await store.readHashes(range(from, to)) };
  } catch (error) {
    if (!isMissingHash(error)) throw error;
  }
  // Halve the span known to hold a missing hash until it is one index: about twice the span's reads in all.
  let lo = from;
  let hi = to;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (await allPresent(store, lo, mid)) lo = mid;
    else hi = mid;
  }
  const present = lo > from ? await store.readHashes(range(from, lo)) : [];
  return { hashes: [...present, ...new Array<undefined>(to - lo).fill(undefined)], missingAt: lo };
}

async function allPresent(store: AuditStore, from: number, to: number): Promise<boolean> {
  try {
    await store.readHashes(range(from, to));
    return true;
  } catch (error) {
    if (isMissingHash(error)) return false;
    throw error;
  }
}

function storedHashExists(store: AuditStore, index: number): Promise<boolean> {
  return allPresent(store, index, index + 1);
}

/** The store's contract: readHashes throws when a hash is absent, as the only internal_error it raises. */
function isMissingHash(error: unknown): boolean {
  return error instanceof GatewayError && error.code === 'internal_error';
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, offset) => from + offset);
}

/**
 * The RFC 6962 tree of the leaves appended so far, as the roots of its perfect subtrees from the largest (leftmost)
 * to the smallest: at most one per bit of the size.
 */
export function compactRange(): { append(leaf: Buffer): Buffer[]; root(): Buffer } {
  const subtrees: { level: number; hash: Buffer }[] = [];
  return {
    /** Appends a leaf; returns the roots of the perfect subtrees it completed, smallest first. */
    append(leaf) {
      const completed: Buffer[] = [];
      let node = { level: 0, hash: leaf };
      for (let top = subtrees.at(-1); top !== undefined && top.level === node.level; top = subtrees.at(-1)) {
        subtrees.pop();
        node = { level: node.level + 1, hash: nodeHash(top.hash, node.hash) };
        completed.push(node.hash);
      }
      subtrees.push(node);
      return completed;
    },
    root() {
      if (subtrees.length === 0) return Buffer.from(EMPTY_ROOT);
      // MTH splits at the largest power of two: the leftmost subtree, then the rest, hashed from the right.
      return subtrees.map((subtree) => subtree.hash).reduceRight((right, left) => nodeHash(left, right));
    },
  };
}

/** The note verifier of a C2SP verifier key, refused as invalid_argument when it is not one. */
export function verifierOf(verifierKey: string): NoteVerifier {
  try {
    return parseVerifierKey(verifierKey);
  } catch (cause) {
    if (cause instanceof NoteError) throw new GatewayError('invalid_argument', `the verifier key is not usable: ${cause.message}`, { cause });
    throw cause;
  }
}

/** A saved checkpoint, refused when it does not verify: an unverifiable checkpoint is no evidence about the log. */
function openSaved(saved: SavedCheckpoint, verifier: NoteVerifier, origin: string): Checkpoint {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(openNote(Buffer.from(saved.note, 'utf8'), [verifier]).text);
  } catch (cause) {
    if (cause instanceof NoteError || cause instanceof CheckpointError) {
      throw new GatewayError('invalid_argument', `${saved.label} is not a checkpoint signed by the log's key: ${cause.message}`, { cause });
    }
    throw cause;
  }
  if (checkpoint.origin !== origin) {
    throw new GatewayError('invalid_argument', `${saved.label} is of the log "${checkpoint.origin}", not "${origin}"`);
  }
  return checkpoint;
}

/** The signed size and root of a stored checkpoint, or why it cannot be trusted. */
function checkStoredCheckpoint(stored: StoredCheckpoint, verifier: NoteVerifier, origin: string): TrustedCheckpoint | string {
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(openNote(Buffer.from(stored.note, 'utf8'), [verifier]).text);
  } catch (cause) {
    if (cause instanceof NoteError || cause instanceof CheckpointError) return `the checkpoint of size ${stored.treeSize} does not verify: ${cause.message}`;
    throw cause;
  }
  if (checkpoint.origin !== origin) return `the checkpoint of size ${stored.treeSize} names the origin "${checkpoint.origin}", not "${origin}"`;
  if (checkpoint.size !== BigInt(stored.treeSize)) return `the checkpoint stored as size ${stored.treeSize} signs size ${checkpoint.size}`;
  if (!hashesEqual(checkpoint.rootHash, stored.rootHash)) return `the checkpoint of size ${stored.treeSize} is stored with a root it does not sign`;
  return { size: stored.treeSize, root: checkpoint.rootHash, saved: undefined };
}

/** The indexed columns that disagree with the entry's own members. */
function mismatchedColumns(stored: StoredAuditEntry, members: Readonly<Record<string, unknown>>): string[] {
  const pairs: [string, unknown, unknown][] = [
    ['kind', stored.kind, members['kind']],
    ['actor', stored.actor, members['actor']],
    ['recorded_at', stored.recordedAt, members['at']],
    ['subject', stored.subject, members['subject']],
    ['consent_id', stored.consentId, members['consent_id']],
  ];
  return pairs.filter(([, column, member]) => column !== member).map(([name]) => name);
}
