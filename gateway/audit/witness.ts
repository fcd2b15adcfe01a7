/**
 * Witness cosigning of the audit log's checkpoints (c2sp.org/tlog-witness): each new checkpoint is sent to every
 * configured witness with a consistency proof from the last size that witness cosigned; the witness checks the
 * log's signature and the proof, and answers with its cosignature (c2sp.org/tlog-cosignature), which is verified
 * with the witness's key and kept with the checkpoint. A checkpoint cosigned by independent witnesses shows every
 * reader the same log: a log that forked its history could not get both branches cosigned by the same witness.
 *
 * `submitCheckpoint` is one `add-checkpoint` call. `createWitnessSubmitter` runs them after each checkpoint, per
 * witness one at a time (a checkpoint made while one is in flight waits, and only the newest waiting one is sent:
 * the witness needs only the latest), never throwing into the checkpointer: a witness that is down or refuses is
 * logged and tried again with the next checkpoint. Witness answers are attacker-controlled: bounded in size and
 * parsed strictly before any signature is verified.
 */
import type { WitnessConfig } from '../config/index.js';
import { NoteError, openNote, formatSignatureLine, parseCosignatureVerifierKey, parseSignatureLine } from '../crypto/note.js';
import type { NoteVerifier } from '../crypto/note.js';
import type { AuditStore, StoredCheckpoint } from '../store/index.js';
import type { AuditLog } from './log.js';

/** How long one add-checkpoint call may take, connection and answer included. */
export const WITNESS_TIMEOUT_MS = 5000;
/** The largest answer read; a cosignature line is about 150 bytes. */
const MAX_RESPONSE_BYTES = 16 * 1024;
/** C2SP tlog-witness: "The client MUST NOT send more than 63 consistency proof lines." */
const MAX_PROOF_LINES = 63;
const SIZE_MEDIA_TYPE = 'text/x.tlog.size';
const HASH_BYTES = 32;

/** Why an add-checkpoint call failed; stable, for callers and tests to tell the cases apart. */
export type WitnessFailure = 'unreachable' | 'timeout' | 'http_status' | 'malformed_response' | 'invalid_cosignature';

export class WitnessError extends Error {
  readonly reason: WitnessFailure;
  /** The witness's HTTP status, for 'http_status'. */
  readonly status: number | undefined;

  constructor(reason: WitnessFailure, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WitnessError';
    this.reason = reason;
    this.status = options.status;
  }
}

export interface AddCheckpointRequest {
  /** The size the witness last cosigned (0 if none: how a log introduces itself). */
  readonly oldSize: number;
  /** RFC 6962 consistency proof from `oldSize` to the checkpoint's size; empty when `oldSize` is 0. */
  readonly consistencyProof: readonly Uint8Array[];
  /** The log's signed checkpoint note. */
  readonly note: string;
}

/** The verified cosignature lines (without newlines), or the size the witness says it last cosigned (409). */
export type AddCheckpointResult = { readonly cosignatures: readonly string[] } | { readonly conflict: number };

export interface SubmitOptions {
  readonly timeoutMs?: number;
}

/**
 * One add-checkpoint call (c2sp.org/tlog-witness, "add-checkpoint"). 200 → the witness's cosignature line(s),
 * verified over the checkpoint with its verifier key, lines from other keys ignored; 409 → `{ conflict: size }`,
 * to retry from that size; any other status, an unreadable answer, an invalid cosignature or a timeout → WitnessError.
 */
export async function submitCheckpoint(witness: WitnessConfig, request: AddCheckpointRequest, options: SubmitOptions = {}): Promise<AddCheckpointResult> {
  const verifier = parseCosignatureVerifierKey(witness.verifierKey);
  const body = requestBody(request);
  const timeout = AbortSignal.timeout(options.timeoutMs ?? WITNESS_TIMEOUT_MS);
  let status: number;
  let contentType: string | null;
  let answer: Buffer;
  try {
    const response = await fetch(`${witness.url}/add-checkpoint`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body,
      // A witness that redirects is misconfigured; following it would send the checkpoint where nobody configured.
      redirect: 'error',
      signal: timeout,
    });
    status = response.status;
    contentType = response.headers.get('content-type');
    answer = await readBounded(response);
  } catch (error) {
    if (error instanceof WitnessError) throw error;
    if (timeout.aborted) throw new WitnessError('timeout', `${witness.url} did not answer within ${options.timeoutMs ?? WITNESS_TIMEOUT_MS} ms`, { cause: error });
    throw new WitnessError('unreachable', `${witness.url} could not be reached`, { cause: error });
  }
  if (status === 200) return { cosignatures: verifiedCosignatures(answer, request.note, verifier) };
  if (status === 409) return { conflict: conflictSize(answer, contentType) };
  throw new WitnessError('http_status', `${witness.url} answered ${status}${describeStatus(status)}`, { status });
}

function requestBody(request: AddCheckpointRequest): Buffer {
  const { oldSize, consistencyProof, note } = request;
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) throw new RangeError(`old size ${oldSize} is not a tree size`);
  if (oldSize === 0 && consistencyProof.length > 0) throw new RangeError('the proof must be empty when the old size is 0');
  if (consistencyProof.length > MAX_PROOF_LINES) throw new RangeError(`a consistency proof has at most ${MAX_PROOF_LINES} hashes`);
  if (consistencyProof.some((hash) => hash.length !== HASH_BYTES)) throw new RangeError(`proof hashes have ${HASH_BYTES} bytes`);
  const lines = [`old ${oldSize}`, ...consistencyProof.map((hash) => Buffer.from(hash).toString('base64')), ''];
  return Buffer.from(`${lines.join('\n')}\n${note}`, 'utf8');
}

async function readBounded(response: Response): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  if (response.body === null) return Buffer.alloc(0);
  for await (const chunk of response.body) {
    length += chunk.byteLength;
    if (length > MAX_RESPONSE_BYTES) {
      await response.body.cancel();
      throw new WitnessError('malformed_response', `the witness's answer exceeds ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

// Attacker-controlled: the witness's 200 answer. It must be one or more signature lines, each ending in a newline,
// and nothing else; then, as c2sp.org/tlog-witness suggests, the lines are appended to the checkpoint and the note
// is opened with the witness's key alone: its line must verify, lines of other keys are ignored.
function verifiedCosignatures(answer: Buffer, note: string, verifier: NoteVerifier): string[] {
  const text = decodeUtf8(answer);
  if (text === undefined || text === '' || !text.endsWith('\n')) {
    throw new WitnessError('malformed_response', 'a cosignature answer is signature lines, each ending in a newline');
  }
  try {
    text.slice(0, -1).split('\n').forEach(parseSignatureLine);
    const opened = openNote(Buffer.from(note + text, 'utf8'), [verifier]);
    return opened.signatures.map(formatSignatureLine);
  } catch (error) {
    if (!(error instanceof NoteError)) throw error;
    const reason = error.reason === 'invalid_signature' || error.reason === 'no_verified_signature' ? 'invalid_cosignature' : 'malformed_response';
    throw new WitnessError(reason, `the witness's answer holds no valid cosignature by ${verifier.name}: ${error.message}`, { cause: error });
  }
}

// Attacker-controlled: the 409 answer, "<size>\n" as text/x.tlog.size.
function conflictSize(answer: Buffer, contentType: string | null): number {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  const text = decodeUtf8(answer);
  const match = text === undefined ? null : /^(0|[1-9][0-9]{0,15})\n$/.exec(text);
  const size = match ? Number(match[1]) : Number.NaN;
  if (mediaType !== SIZE_MEDIA_TYPE || !Number.isSafeInteger(size)) {
    // A 409 without a size is the other conflict of the protocol: the same size with a different root hash.
    throw new WitnessError('http_status', `the witness answered 409 without a ${SIZE_MEDIA_TYPE} size: it may hold a different tree of this size`, { status: 409 });
  }
  return size;
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** What the statuses of c2sp.org/tlog-witness mean, for the log line. */
function describeStatus(status: number): string {
  switch (status) {
    case 400: return ' (bad request)';
    case 403: return ' (no signature by a key it trusts for this origin)';
    case 404: return ' (it does not know this log\'s origin)';
    case 422: return ' (the consistency proof did not verify)';
    default: return '';
  }
}

/** Where the submitter reports; a pino logger fits. */
export interface WitnessLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface WitnessSubmitterOptions {
  readonly witnesses: readonly WitnessConfig[];
  readonly log: AuditLog;
  readonly store: AuditStore;
  readonly logger?: WitnessLogger;
  readonly now?: () => Date;
  readonly timeoutMs?: number;
}

export interface WitnessSubmitter {
  /** Sends the checkpoint to every witness; resolves when they answered or failed. Never rejects. */
  submit(checkpoint: StoredCheckpoint): Promise<void>;
  /** Waits for calls in flight (each bounded by its timeout); later checkpoints are not sent. */
  close(): Promise<void>;
}

interface WitnessState {
  readonly config: WitnessConfig;
  readonly verifier: NoteVerifier;
  /** The size this witness last cosigned, as far as the log knows; read from the store at first use. */
  cosignedSize: number | undefined;
  /** The newest checkpoint waiting to be sent. */
  waiting: StoredCheckpoint | undefined;
  running: Promise<void> | undefined;
}

/** Throws at once if a witness's verifier key is malformed, so that a bad configuration stops the start. */
export function createWitnessSubmitter(options: WitnessSubmitterOptions): WitnessSubmitter {
  const { log, store, logger } = options;
  const now = options.now ?? (() => new Date());
  const states: WitnessState[] = options.witnesses.map((config) => ({
    config, verifier: parseCosignatureVerifierKey(config.verifierKey), cosignedSize: undefined, waiting: undefined, running: undefined,
  }));
  const submitOptions: SubmitOptions = { timeoutMs: options.timeoutMs };
  let closed = false;

  /**
   * The proof a witness that cosigned `oldSize` needs. C2SP tlog-witness has a log a witness has not seen (old
   * size 0) send an empty proof; the log's consistencyProof refuses size 0, as RFC 9162 defines no proof from the
   * empty tree, so that case is answered here.
   */
  async function proofFrom(oldSize: number, size: number): Promise<Buffer[]> {
    return oldSize === 0 ? [] : log.consistencyProof(oldSize, size);
  }

  async function send(state: WitnessState, checkpoint: StoredCheckpoint): Promise<void> {
    const fields = { witness: state.verifier.name, url: state.config.url, tree_size: checkpoint.treeSize };
    try {
      state.cosignedSize ??= await lastCosignedSize(store, state.verifier);
      let oldSize = state.cosignedSize;
      if (oldSize > checkpoint.treeSize) {
        logger?.error({ ...fields, cosigned_size: oldSize }, 'witness already cosigned a larger tree than this checkpoint; not sent');
        return;
      }
      let result = await submitCheckpoint(state.config, { oldSize, consistencyProof: await proofFrom(oldSize, checkpoint.treeSize), note: checkpoint.note }, submitOptions);
      if ('conflict' in result) {
        // The witness knows another size (it lost its state, or an earlier answer of ours was lost): retry once.
        logger?.warn({ ...fields, old_size: oldSize, witness_size: result.conflict }, 'witness reports another size; retrying from it');
        if (result.conflict > checkpoint.treeSize) {
          logger?.error({ ...fields, witness_size: result.conflict },
            'witness has cosigned a larger tree of this log than the log has checkpointed: it saw another history, or the log lost entries');
          return;
        }
        oldSize = result.conflict;
        result = await submitCheckpoint(state.config, { oldSize, consistencyProof: await proofFrom(oldSize, checkpoint.treeSize), note: checkpoint.note }, submitOptions);
        if ('conflict' in result) {
          logger?.error({ ...fields, old_size: oldSize, witness_size: result.conflict }, 'witness reports another size again; giving up on this checkpoint');
          return;
        }
      }
      const receivedAt = now().toISOString();
      for (const signatureLine of result.cosignatures) await store.addCosignature(checkpoint.treeSize, { witness: state.verifier.name, signatureLine }, receivedAt);
      state.cosignedSize = checkpoint.treeSize;
      logger?.debug(fields, 'checkpoint cosigned by witness');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!(error instanceof WitnessError)) {
        logger?.error({ ...fields, err: message }, 'checkpoint could not be sent to witness');
      } else if (error.reason === 'unreachable' || error.reason === 'timeout' || (error.status ?? 0) >= 500) {
        logger?.warn({ ...fields, err: message, reason: error.reason, status: error.status }, 'witness unavailable; the next checkpoint will be sent');
      } else {
        logger?.error({ ...fields, err: message, reason: error.reason, status: error.status }, 'witness refused the checkpoint or its answer was invalid');
      }
    }
  }

  /** Sends waiting checkpoints until none is left. Called with one waiting, so it always awaits before returning. */
  async function drain(state: WitnessState): Promise<void> {
    for (let next = state.waiting; next !== undefined && !closed; next = state.waiting) {
      state.waiting = undefined;
      await send(state, next);
    }
    // Synchronous from the loop's last check: a checkpoint that arrives later starts a new drain.
    state.running = undefined;
  }

  return {
    async submit(checkpoint) {
      if (closed) return;
      await Promise.all(states.map((state) => {
        if (state.waiting === undefined || state.waiting.treeSize < checkpoint.treeSize) state.waiting = checkpoint;
        state.running ??= drain(state);
        return state.running;
      }));
    },
    async close() {
      closed = true;
      await Promise.all(states.map((state) => state.running));
    },
  };
}

/**
 * The largest checkpoint size with a cosignature by this witness's key in the store, else 0. Scans checkpoints
 * from the newest, once per witness and process.
 */
async function lastCosignedSize(store: AuditStore, verifier: NoteVerifier): Promise<number> {
  const checkpoints = await store.checkpoints();
  for (let i = checkpoints.length - 1; i >= 0; i -= 1) {
    const { treeSize } = checkpoints[i] as StoredCheckpoint;
    if ((await store.cosignatures(treeSize)).some((cosignature) => cosignature.witness === verifier.name && isByKey(cosignature.signatureLine, verifier))) {
      return treeSize;
    }
  }
  return 0;
}

function isByKey(signatureLine: string, verifier: NoteVerifier): boolean {
  try {
    const parsed = parseSignatureLine(signatureLine);
    return parsed.name === verifier.name && parsed.keyId === verifier.keyId;
  } catch {
    return false;
  }
}
