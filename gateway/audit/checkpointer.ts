/**
 * Checkpoints of the audit log: a C2SP tlog-checkpoint (origin, size, root) signed as a note with the log's
 * Ed25519 key, made every few seconds while entries arrive and kept, so that anyone who saved one can later prove
 * the log was not rewritten. After each new checkpoint, `onCheckpoint` (witness submission) runs.
 *
 * The checkpointer never signs a tree that does not extend the last checkpoint signed (by this process, or by
 * another one sharing the log, as the checkpoint file shows): before each signature the consistency proof from that
 * checkpoint is checked (anchor.ts). If it fails, the log is halted — no more appends, so no more writes — and
 * nothing is signed.
 */
import { signNote } from '../crypto/note.js';
import { GatewayError } from '../errors/index.js';
import type { NoteKey } from '../keys/index.js';
import type { AuditStore, StoredCheckpoint } from '../store/index.js';
import { checkExtends, inconsistent, readCheckpointFile, writeCheckpointFile } from './anchor.js';
import type { AnchorFiles, SignedCheckpoint } from './anchor.js';
import { formatCheckpoint } from './checkpoint.js';
import type { AuditLog } from './log.js';

export interface Checkpointer {
  /** Signs and keeps a checkpoint of the current tree if it grew since the last one; returns the latest. */
  checkpointNow(): Promise<StoredCheckpoint | undefined>;
  /** Checkpoints every `intervalMs` from now on. */
  start(): void;
  /** Stops the timer and makes a last checkpoint. */
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  readonly store: AuditStore;
  readonly log: AuditLog;
  readonly key: NoteKey;
  readonly intervalMs: number;
  /** Where the latest signed checkpoint is also kept; without, only the database keeps it (tests of the log alone). */
  readonly files?: AnchorFiles | undefined;
  /** The last checkpoint signed, as the start check found it (anchor.ts checkLogAtStart). */
  readonly lastSigned?: SignedCheckpoint | undefined;
  readonly now?: () => Date;
  readonly onCheckpoint?: (checkpoint: StoredCheckpoint) => void;
  readonly onError?: (error: unknown) => void;
  /** Whether this process signs on the timer: one of several on a database does (Coordination.leads). */
  readonly leads?: () => Promise<boolean>;
}

export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  const { store, log, key, files } = options;
  const now = options.now ?? (() => new Date());
  const anchorFiles: AnchorFiles = files ?? { checkpointFile: 'the audit database' };
  let timer: NodeJS.Timeout | undefined;
  let last: SignedCheckpoint | undefined = options.lastSigned;
  let loaded = last !== undefined;
  // One checkpoint at a time: the timer's and an explicit one would otherwise both sign the same tree.
  let running: Promise<unknown> = Promise.resolve();

  function fromRow(row: StoredCheckpoint | undefined): SignedCheckpoint | undefined {
    return row && { size: row.treeSize, root: Buffer.from(row.rootHash), note: row.note, from: `the audit database's checkpoint of size ${row.treeSize}` };
  }

  /** A checkpoint another process signed since, if any: the log must extend it as well as ours. */
  async function catchUp(): Promise<void> {
    if (!loaded) {
      last = fromRow(await store.latestCheckpoint());
      loaded = true;
    }
    const onFile = files && readCheckpointFile(files.checkpointFile, key, files);
    if (onFile === undefined || (last !== undefined && onFile.size <= last.size)) return;
    if (last !== undefined && !(await checkExtends(log, last, onFile.size, anchorFiles)).equals(onFile.root)) {
      throw inconsistent(`the stored tree of size ${onFile.size} does not have the root ${onFile.from} signed for it`, anchorFiles);
    }
    last = onFile;
  }

  function checkpointNow(): Promise<StoredCheckpoint | undefined> {
    const next = running.then(checkpointOnce, checkpointOnce);
    running = next.catch(() => undefined);
    return next;
  }

  async function checkpointOnce(): Promise<StoredCheckpoint | undefined> {
    const halted = log.halted();
    if (halted) throw halted;
    try {
      await catchUp();
      const size = await store.size();
      if (size === 0 || (last !== undefined && last.size >= size)) return await store.latestCheckpoint();
      const rootHash = last === undefined ? await log.rootAt(size) : await checkExtends(log, last, size, anchorFiles);
      const text = formatCheckpoint({ origin: key.origin, size: BigInt(size), rootHash });
      const checkpoint: StoredCheckpoint = { treeSize: size, rootHash, note: signNote(text, key.signer), createdAt: now().toISOString() };
      // The row first, then the file: at start the database's latest checkpoint is the file's or a later one.
      await store.addCheckpoint(checkpoint);
      if (files) writeCheckpointFile(files.checkpointFile, checkpoint);
      last = { size, root: rootHash, note: checkpoint.note, from: files?.checkpointFile ?? 'the audit database' };
      options.onCheckpoint?.(checkpoint);
      return checkpoint;
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'audit_log_inconsistent') log.halt(error);
      throw error;
    }
  }

  const tick = async () => {
    try {
      if (options.leads && !(await options.leads())) return;
      await checkpointNow();
    } catch (error) {
      options.onError?.(error);
    }
  };

  return {
    checkpointNow,
    start() {
      timer ??= setInterval(() => void tick(), options.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await tick();
    },
  };
}
