/**
 * Test helper: a minimal C2SP witness (c2sp.org/tlog-witness, "add-checkpoint") on 127.0.0.1, port 0. It trusts one
 * note key per log origin, keeps the latest size and root it cosigned per origin, and answers as the specification
 * says: 404 unknown origin, 403 no trusted signature, 400 malformed request or old size above the checkpoint's,
 * 409 (with its size as text/x.tlog.size) when the old size is not the one it recorded or a same-size root differs,
 * 422 when the consistency proof does not verify, else 200 with its cosignature/v1 line. `failWith` makes it answer
 * an error status instead, `stall` makes it never answer, `stop` takes it down.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCheckpoint } from '../../gateway/audit/checkpoint.js';
import { verifyConsistency } from '../../gateway/audit/verify.js';
import { hashesEqual } from '../../gateway/crypto/merkleHash.js';
import {
  NoteError, cosignCheckpoint, decodeBase64Strict, generateCosignatureKey, openNote, parseCosignatureSignerKey, parseVerifierKey,
} from '../../gateway/crypto/note.js';
import type { NoteVerifier } from '../../gateway/crypto/note.js';

export interface WitnessRecord {
  readonly size: bigint;
  readonly rootHash: Buffer;
}

export interface TestWitness {
  readonly url: string;
  readonly name: string;
  /** Its cosignature verifier key (type 0x04). */
  readonly verifierKey: string;
  /** `<url> <verifier key>`, as GATEWAY_AUDIT_WITNESSES takes it. */
  readonly configEntry: string;
  /** Trusts `verifierKey` for checkpoints of `origin`. */
  trustLog(origin: string, verifierKey: string): void;
  /** What it last cosigned for `origin`. */
  recorded(origin: string): WitnessRecord | undefined;
  /** Replaces its record, as a witness restored from an old backup would have. */
  setRecorded(origin: string, record: WitnessRecord | undefined): void;
  /** Answers every request with this status (e.g. 500) until called with undefined. */
  failWith(status: number | undefined): void;
  /** Leaves requests unanswered (until `stop`) while on. */
  stall(on: boolean): void;
  /** Statuses it answered, in order. */
  readonly answered: number[];
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

class Refusal extends Error {
  constructor(readonly status: number, message: string, readonly size?: bigint) {
    super(message);
  }
}

export async function startTestWitness(name = 'witness.test/w1'): Promise<TestWitness> {
  const key = generateCosignatureKey(name);
  const signer = parseCosignatureSignerKey(key.signerKey);
  const logs = new Map<string, NoteVerifier>();
  const records = new Map<string, WitnessRecord>();
  const answered: number[] = [];
  let failure: number | undefined;
  let stalled = false;

  // Attacker-controlled in a real witness: the request body, parsed strictly. Runs synchronously once the body is
  // read, so checking the old size and recording the new checkpoint are atomic, as the specification requires.
  function addCheckpoint(body: Buffer): string {
    const text = body.toString('utf8');
    const blank = text.indexOf('\n\n');
    if (blank < 0) throw new Refusal(400, 'no blank line after the proof');
    const [oldLine, ...proofLines] = text.slice(0, blank).split('\n');
    const oldMatch = /^old (0|[1-9][0-9]*)$/.exec(oldLine ?? '');
    if (!oldMatch || proofLines.length > 63) throw new Refusal(400, 'malformed old size or proof');
    const proof = proofLines.map((line) => decodeBase64Strict(line));
    if (proof.some((hash) => hash === undefined || hash.length !== 32)) throw new Refusal(400, 'malformed proof hash');
    const note = text.slice(blank + 2);
    const origin = note.slice(0, note.indexOf('\n'));
    const verifier = logs.get(origin);
    if (!verifier) throw new Refusal(404, 'unknown origin');
    let checkpointText: string;
    try {
      checkpointText = openNote(Buffer.from(note, 'utf8'), [verifier]).text;
    } catch (error) {
      if (error instanceof NoteError && (error.reason === 'no_verified_signature' || error.reason === 'invalid_signature')) throw new Refusal(403, error.message);
      throw new Refusal(400, error instanceof Error ? error.message : 'malformed note');
    }
    let checkpoint: ReturnType<typeof parseCheckpoint>;
    try {
      checkpoint = parseCheckpoint(checkpointText);
    } catch (error) {
      throw new Refusal(400, error instanceof Error ? error.message : 'malformed checkpoint');
    }
    const oldSize = BigInt(oldMatch[1] as string);
    if (oldSize > checkpoint.size) throw new Refusal(400, 'old size above the checkpoint size');
    const record = records.get(origin);
    const recordedSize = record?.size ?? 0n;
    if (oldSize !== recordedSize) throw new Refusal(409, 'old size is not the recorded size', recordedSize);
    if (oldSize === checkpoint.size && record && !hashesEqual(record.rootHash, checkpoint.rootHash)) {
      throw new Refusal(409, 'same size, different root', recordedSize);
    }
    if (oldSize === 0n) {
      // c2sp.org/tlog-witness: "The proof MUST be empty if the old size is zero"; there is nothing to verify.
      if (proof.length > 0) throw new Refusal(422, 'a proof from size 0 must be empty');
    } else if (record) {
      try {
        verifyConsistency(oldSize, checkpoint.size, proof as Buffer[], record.rootHash, checkpoint.rootHash);
      } catch (error) {
        throw new Refusal(422, error instanceof Error ? error.message : 'bad proof');
      }
    }
    records.set(origin, { size: checkpoint.size, rootHash: checkpoint.rootHash });
    return `${cosignCheckpoint(checkpointText, signer, Math.floor(Date.now() / 1000))}\n`;
  }

  function answer(res: http.ServerResponse, status: number, contentType: string, body: string): void {
    answered.push(status);
    res.writeHead(status, { 'content-type': contentType }).end(body);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (stalled) return;
      if (failure !== undefined) return answer(res, failure, 'text/plain', 'failing on purpose\n');
      if (req.method !== 'POST' || req.url !== '/add-checkpoint') return answer(res, 404, 'text/plain', 'not found\n');
      if (length > MAX_BODY_BYTES) return answer(res, 413, 'text/plain', 'too large\n');
      try {
        return answer(res, 200, 'text/plain; charset=utf-8', addCheckpoint(Buffer.concat(chunks)));
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        if (error.size !== undefined) return answer(res, error.status, 'text/x.tlog.size', `${error.size}\n`);
        return answer(res, error.status, 'text/plain', `${error.message}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    name,
    verifierKey: key.verifierKey,
    configEntry: `${url} ${key.verifierKey}`,
    answered,
    trustLog: (origin, verifierKey) => void logs.set(origin, parseVerifierKey(verifierKey)),
    recorded: (origin) => records.get(origin),
    setRecorded(origin, record) {
      if (record) records.set(origin, record);
      else records.delete(origin);
    },
    failWith(status) {
      failure = status;
    },
    stall(on) {
      stalled = on;
    },
    stop: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}
