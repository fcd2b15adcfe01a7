/**
 * Checkpoints of the audit log: a C2SP tlog-checkpoint (origin, size, root) signed as a note with the log's
 * Ed25519 key, made every few seconds while entries arrive and kept, so that anyone who saved one can later prove
 * the log was not rewritten. After each new checkpoint, `onCheckpoint` (witness submission) runs.
 */
import { signNote } from '../crypto/note.js';
import type { NoteKey } from '../keys/index.js';
import type { AuditStore, StoredCheckpoint } from '../store/index.js';
import { formatCheckpoint } from './checkpoint.js';
import type { AuditLog } from './log.js';

export interface Checkpointer {
  /** Signs and keeps a checkpoint of the current tree if it grew since the last one; returns the latest. */
  checkpointNow(): StoredCheckpoint | undefined;
  /** Checkpoints every `intervalMs` from now on. */
  start(): void;
  /** Stops the timer and makes a last checkpoint. */
  stop(): void;
}

export interface CheckpointerOptions {
  readonly store: AuditStore;
  readonly log: AuditLog;
  readonly key: NoteKey;
  readonly intervalMs: number;
  readonly now?: () => Date;
  readonly onCheckpoint?: (checkpoint: StoredCheckpoint) => void;
  readonly onError?: (error: unknown) => void;
}

export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  const now = options.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;

  function checkpointNow(): StoredCheckpoint | undefined {
    const size = options.store.size();
    const latest = options.store.latestCheckpoint();
    if (size === 0 || (latest && latest.treeSize >= size)) return latest;
    const rootHash = options.log.rootAt(size);
    const text = formatCheckpoint({ origin: options.key.origin, size: BigInt(size), rootHash });
    const checkpoint: StoredCheckpoint = { treeSize: size, rootHash, note: signNote(text, options.key.signer), createdAt: now().toISOString() };
    options.store.addCheckpoint(checkpoint);
    options.onCheckpoint?.(checkpoint);
    return checkpoint;
  }

  const tick = () => {
    try {
      checkpointNow();
    } catch (error) {
      options.onError?.(error);
    }
  };

  return {
    checkpointNow,
    start() {
      timer ??= setInterval(tick, options.intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      tick();
    },
  };
}
