// Pins witness cosigning of checkpoints: cosignature/v1 keys, signing and verification (gateway/crypto/note.ts)
// against ../shared/vectors/signed-note/ ("cosig_timestamp_vector" from transparency-dev/formats
// note/note_cosigv1_test.go, the C2SP tlog-cosignature example in "checkpoint_example"); the add-checkpoint call
// (gateway/audit/witness.ts) against the minimal C2SP witness of test/support/witness.ts; the submitter after each
// checkpoint; and a real gateway whose served checkpoint carries the witness's cosignature.
import { createHash, createPublicKey, verify } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { formatCheckpoint } from '../../gateway/audit/checkpoint.js';
import { createCheckpointer } from '../../gateway/audit/checkpointer.js';
import type { Checkpointer } from '../../gateway/audit/checkpointer.js';
import { createAuditLog } from '../../gateway/audit/log.js';
import type { AuditLog } from '../../gateway/audit/log.js';
import { createWitnessSubmitter, submitCheckpoint, WitnessError } from '../../gateway/audit/witness.js';
import type { WitnessFailure, WitnessLogger } from '../../gateway/audit/witness.js';
import { leafHash } from '../../gateway/crypto/merkleHash.js';
import {
  NoteError, cosignatureTimestamp, cosignCheckpoint, decodeBase64Strict, generateCosignatureKey, generateNoteKey, openNote,
  parseCosignatureSignerKey, parseCosignatureVerifierKey, parseSignatureLine, parseSignerKey, parseVerifierKey, signNote,
} from '../../gateway/crypto/note.js';
import type { NoteKey } from '../../gateway/keys/index.js';
import { openSqliteAuditStore } from '../../gateway/store/index.js';
import type { AuditStore, StoredCheckpoint } from '../../gateway/store/index.js';
import { startTestGateway } from '../support/gateway.js';
import { startTestWitness } from '../support/witness.js';
import type { TestWitness } from '../support/witness.js';
import { asObject, describeVectors, int, readJson, str } from '../support/vectors.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const CHECKPOINT = formatCheckpoint({ origin: 'gateway.test/log', size: 5n, rootHash: leafHash(utf8('root')) });

/**
 * A native cosignature/v1 verifier key of a running witness, from transparency-dev/formats note/note_cosigv1_test.go
 * (TestCoSigV1NewVerifier, "works: native algEd25519CosignatureV1 verifier") at the commit the vectors cite; not in
 * the shared vectors file, so kept here with its source.
 */
const REMORA_VKEY = 'remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2';

/** The 32 key bytes of a verifier key "<name>+<key ID>+<base64(type ‖ key)>" (the base64 may hold '+'). */
function publicKeyOf(verifierKey: string): Buffer {
  const [name = '', keyId = ''] = verifierKey.split('+');
  return decodeBase64Strict(verifierKey.slice(name.length + keyId.length + 2))!.subarray(1);
}

function expectNoteError(action: () => unknown, reason: string): void {
  expect(action).to.throw(NoteError).with.property('reason', reason);
}

async function expectWitnessError(promise: Promise<unknown>, reason: WitnessFailure, status?: number): Promise<WitnessError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(WitnessError);
    const witnessError = error as WitnessError;
    expect(witnessError.reason, witnessError.message).to.equal(reason);
    if (status !== undefined) expect(witnessError.status).to.equal(status);
    return witnessError;
  }
  throw new Error(`expected a WitnessError (${reason})`);
}

interface LogLine {
  readonly level: 'debug' | 'warn' | 'error';
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

function capturingLogger(): { logger: WitnessLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (fields: object, message: string) => void lines.push({ level, fields: { ...fields }, message });
  return { lines, logger: { debug: at('debug'), warn: at('warn'), error: at('error') } };
}

describe('audit/witness', function () {
  describe('cosignature/v1 keys and signatures', () => {
    it('sign a checkpoint that opens with the log\'s key and the witness\'s key, exposing the timestamp', () => {
      const logKey = generateNoteKey('gateway.test/log');
      const witnessKey = generateCosignatureKey('witness.test/w1');
      expect(witnessKey.verifierKey).to.match(/^witness\.test\/w1\+[0-9a-f]{8}\+B[A-Za-z0-9+/]{43}$/);
      const signed = signNote(CHECKPOINT, parseSignerKey(logKey.signerKey));
      const line = cosignCheckpoint(CHECKPOINT, parseCosignatureSignerKey(witnessKey.signerKey), 1679315147);
      const opened = openNote(utf8(`${signed}${line}\n`), [parseVerifierKey(logKey.verifierKey), parseCosignatureVerifierKey(witnessKey.verifierKey)]);
      expect(opened.text).to.equal(CHECKPOINT);
      expect(opened.signatures.map((signature) => signature.name)).to.deep.equal(['gateway.test/log', 'witness.test/w1']);
      expect(cosignatureTimestamp(opened.signatures[1]!.signature)).to.equal(1679315147n);
    });

    it('sign "cosignature/v1\\ntime <t>\\n" followed by the checkpoint text (C2SP tlog-cosignature, "Ed25519 signed message")', () => {
      const key = generateCosignatureKey('witness.test/w1');
      const parsed = parseSignatureLine(cosignCheckpoint(CHECKPOINT, parseCosignatureSignerKey(key.signerKey), 1700000000));
      expect(parsed.signature.subarray(0, 8)).to.deep.equal(Buffer.from('000000006553f100', 'hex'));
      const raw = publicKeyOf(key.verifierKey);
      const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
      const message = utf8(`cosignature/v1\ntime 1700000000\n${CHECKPOINT}`);
      expect(verify(null, message, publicKey, parsed.signature.subarray(8))).to.equal(true);
    });

    it('cover the timestamp and every line of the checkpoint, extension lines included', () => {
      const key = generateCosignatureKey('witness.test/w1');
      const verifier = parseCosignatureVerifierKey(key.verifierKey);
      const extended = `${CHECKPOINT}extension\n`;
      const { signature } = parseSignatureLine(cosignCheckpoint(extended, parseCosignatureSignerKey(key.signerKey), 1700000000));
      expect(verifier.verify(utf8(extended), signature)).to.equal(true);
      expect(verifier.verify(utf8(`${CHECKPOINT}extensioN\n`), signature)).to.equal(false);
      const later = Buffer.from(signature);
      later[7] = (later[7]! + 1) & 0xff;
      expect(verifier.verify(utf8(extended), later)).to.equal(false);
      // A timestamp above 2^63 − 1 is refused before any signature check (C2SP: it "MUST NOT exceed 2^63 - 1").
      const huge = Buffer.from(signature);
      huge[0] = 0x80;
      expect(verifier.verify(utf8(extended), huge)).to.equal(false);
      expect(verifier.verify(utf8(extended), signature.subarray(8))).to.equal(false);
    });

    it('keep cosignature keys (type 0x04) and plain note keys (type 0x01) apart', () => {
      const cosigning = generateCosignatureKey('w');
      const plain = generateNoteKey('w');
      expectNoteError(() => parseVerifierKey(cosigning.verifierKey), 'malformed_key');
      expectNoteError(() => parseSignerKey(cosigning.signerKey), 'malformed_key');
      expectNoteError(() => parseCosignatureVerifierKey(plain.verifierKey), 'malformed_key');
      expectNoteError(() => parseCosignatureSignerKey(plain.signerKey), 'malformed_key');
      // C2SP tlog-cosignature: key ID = SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4], so the same Ed25519 key as a
      // plain note key (0x01) has another key ID, and a cosignature never passes for a log's signature.
      const publicKey = publicKeyOf(cosigning.verifierKey);
      const keyId = (type: number) => createHash('sha256').update('w\n').update(Buffer.of(type)).update(publicKey).digest().readUInt32BE(0);
      expect(parseCosignatureVerifierKey(cosigning.verifierKey).keyId).to.equal(keyId(0x04));
      const asPlain = `w+${keyId(0x01).toString(16).padStart(8, '0')}+${Buffer.concat([Buffer.of(0x01), publicKey]).toString('base64')}`;
      expect(parseVerifierKey(asPlain).keyId).to.not.equal(keyId(0x04));
    });

    it('computes the key ID of a witness key made by another implementation', () => {
      const remora = parseCosignatureVerifierKey(REMORA_VKEY);
      expect([remora.name, remora.keyId.toString(16).padStart(8, '0')]).to.deep.equal(['remora.n621.de', 'da77ade7']);
      expectNoteError(() => parseCosignatureVerifierKey(REMORA_VKEY.replace('da77ade7', 'da77ade8')), 'malformed_key');
    });

    it('refuse to cosign what is not a checkpoint text, or at a timestamp that is not whole seconds', () => {
      const signer = parseCosignatureSignerKey(generateCosignatureKey('w').signerKey);
      for (const text of ['origin\n5\n', `${CHECKPOINT.slice(0, -1)}`, `bell\u0007\n${CHECKPOINT}`]) {
        expectNoteError(() => cosignCheckpoint(text, signer, 1), 'malformed_note');
      }
      for (const timestamp of [-1, 1.5, Number.NaN, 2 ** 53]) expectNoteError(() => cosignCheckpoint(CHECKPOINT, signer, timestamp), 'malformed_note');
    });

    describeVectors('signed-note', 'vectors', (dir) => {
      const vectors = readJson(path.join(dir, 'signed-note-vectors.json'));

      it('reads key ID and timestamp of transparency-dev/formats TestCosignatureTimestamp "works"', () => {
        const vector = asObject(vectors['cosig_timestamp_vector'], 'cosig_timestamp_vector');
        const decoded = decodeBase64Strict(str(vector, 'sig_b64'))!;
        expect(decoded.subarray(0, 4).toString('hex')).to.equal(str(vector, 'keyID'));
        expect(cosignatureTimestamp(decoded.subarray(4))).to.equal(int(vector, 'timestamp'));
      });

      it('refuses formats\' "wrong type of signature" (a plain 64-byte signature) as a cosignature', () => {
        const plain = decodeBase64Strict('eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=')!;
        expectNoteError(() => cosignatureTimestamp(plain.subarray(4)), 'malformed_note');
      });

      it('reads the C2SP tlog-cosignature example\'s witness line as the vectors decode it', () => {
        const example = asObject(vectors['checkpoint_example'], 'checkpoint_example');
        const decodedAs = str(asObject(example['decoded'], 'checkpoint_example.decoded'), 'witness_cosig');
        const [, keyId, timestamp] = /keyID ([0-9a-f]{8}) \|\| u64 BE timestamp (\d+)/.exec(decodedAs)!;
        const witnessLine = str(example, 'note').split('\n').find((line) => line.startsWith('\u2014 witness.example.com/w1 '))!;
        const parsed = parseSignatureLine(witnessLine);
        expect(parsed.keyId.toString(16).padStart(8, '0')).to.equal(keyId);
        expect(cosignatureTimestamp(parsed.signature)).to.equal(BigInt(timestamp!));
        // Its key is not published: a verifier of that name but another key ignores the line.
        const other = parseCosignatureVerifierKey(generateCosignatureKey('witness.example.com/w1').verifierKey);
        expectNoteError(() => openNote(utf8(str(example, 'note')), [other]), 'no_verified_signature');
      });
    });
  });

  describe('with a log and a test witness', function () {
    const origin = 'gateway.test/log';
    let dir: string;
    let store: AuditStore;
    let log: AuditLog;
    let key: NoteKey;
    let checkpointer: Checkpointer;
    let witness: TestWitness;
    let appended = 0;

    async function grow(entries: number): Promise<StoredCheckpoint> {
      for (let n = 0; n < entries; n += 1) await log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n: appended++ } });
      return (await checkpointer.checkpointNow())!;
    }

    beforeEach(async function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-witness-'));
      store = openSqliteAuditStore({ file: path.join(dir, 'audit.sqlite') });
      log = createAuditLog(store);
      const noteKey = generateNoteKey(origin);
      key = { origin, signer: parseSignerKey(noteKey.signerKey), verifierKey: noteKey.verifierKey };
      checkpointer = createCheckpointer({ store, log, key, intervalMs: 1000 });
      witness = await startTestWitness();
      witness.trustLog(origin, key.verifierKey);
    });
    afterEach(async function () {
      await witness.stop();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    describe('submitCheckpoint', () => {
      it('introduces the log with "old 0" and an empty proof, then sends a consistency proof', async () => {
        const first = await grow(3);
        const result = await submitCheckpoint({ url: witness.url, verifierKey: witness.verifierKey }, { oldSize: 0, consistencyProof: [], note: first.note });
        expect(result).to.have.property('cosignatures').with.length(1);
        const [line] = (result as { cosignatures: string[] }).cosignatures;
        const opened = openNote(utf8(`${first.note}${line}\n`), [parseVerifierKey(key.verifierKey), parseCosignatureVerifierKey(witness.verifierKey)]);
        expect(opened.signatures.map((signature) => signature.name)).to.deep.equal([origin, witness.name]);
        expect(witness.recorded(origin)?.size).to.equal(3n);

        const second = await grow(4);
        const next = await submitCheckpoint({ url: witness.url, verifierKey: witness.verifierKey },
          { oldSize: 3, consistencyProof: await log.consistencyProof(3, 7), note: second.note });
        expect(next).to.have.property('cosignatures').with.length(1);
        expect(witness.recorded(origin)?.size).to.equal(7n);
      });

      it('returns the witness\'s size on 409, and a retry from that size is cosigned', async () => {
        const earlier = await grow(2);
        const later = await grow(3);
        // The witness was restored knowing size 2, which the log does not remember having sent.
        witness.setRecorded(origin, { size: 2n, rootHash: Buffer.from(earlier.rootHash) });
        const witnessConfig = { url: witness.url, verifierKey: witness.verifierKey };
        expect(await submitCheckpoint(witnessConfig, { oldSize: 0, consistencyProof: [], note: later.note })).to.deep.equal({ conflict: 2 });
        const retried = await submitCheckpoint(witnessConfig, { oldSize: 2, consistencyProof: await log.consistencyProof(2, 5), note: later.note });
        expect(retried).to.have.property('cosignatures').with.length(1);
        expect(witness.answered).to.deep.equal([409, 200]);
      });

      it('surfaces a proof the witness refuses as 422', async () => {
        const earlier = await grow(3);
        const later = await grow(3);
        const witnessConfig = { url: witness.url, verifierKey: witness.verifierKey };
        await submitCheckpoint(witnessConfig, { oldSize: 0, consistencyProof: [], note: earlier.note });
        const wrong = (await log.consistencyProof(3, 6)).map((hash) => leafHash(hash));
        await expectWitnessError(submitCheckpoint(witnessConfig, { oldSize: 3, consistencyProof: wrong, note: later.note }), 'http_status', 422);
        expect(witness.recorded(origin)?.size).to.equal(3n);
      });

      it('surfaces 404 for an origin the witness does not know, and 500', async () => {
        const checkpoint = await grow(1);
        const witnessConfig = { url: witness.url, verifierKey: witness.verifierKey };
        const stranger = await startTestWitness();
        try {
          await expectWitnessError(submitCheckpoint({ url: stranger.url, verifierKey: stranger.verifierKey }, { oldSize: 0, consistencyProof: [], note: checkpoint.note }), 'http_status', 404);
        } finally {
          await stranger.stop();
        }
        witness.failWith(500);
        await expectWitnessError(submitCheckpoint(witnessConfig, { oldSize: 0, consistencyProof: [], note: checkpoint.note }), 'http_status', 500);
      });

      it('refuses a cosignature by another key under the witness\'s name', async () => {
        const checkpoint = await grow(1);
        const impostor = await startTestWitness(witness.name);
        impostor.trustLog(origin, key.verifierKey);
        try {
          await expectWitnessError(submitCheckpoint({ url: impostor.url, verifierKey: witness.verifierKey }, { oldSize: 0, consistencyProof: [], note: checkpoint.note }), 'invalid_cosignature');
        } finally {
          await impostor.stop();
        }
      });

      it('reports a witness that is down, or that does not answer in time', async () => {
        const checkpoint = await grow(1);
        const request = { oldSize: 0, consistencyProof: [], note: checkpoint.note };
        const silent = await startTestWitness();
        const url = silent.url;
        await silent.stop();
        await expectWitnessError(submitCheckpoint({ url, verifierKey: witness.verifierKey }, request), 'unreachable');
        witness.stall(true);
        await expectWitnessError(submitCheckpoint({ url: witness.url, verifierKey: witness.verifierKey }, request, { timeoutMs: 200 }), 'timeout');
      });
    });

    describe('the submitter', () => {
      it('stores each verified cosignature and sends the next checkpoint with a proof from the last cosigned size', async () => {
        const { logger, lines } = capturingLogger();
        const submitter = createWitnessSubmitter({ witnesses: [{ url: witness.url, verifierKey: witness.verifierKey }], log, store, logger, now: () => new Date('2025-01-02T03:04:05Z') });
        await submitter.submit(await grow(2));
        await submitter.submit(await grow(3));
        expect(witness.answered).to.deep.equal([200, 200]);
        expect(witness.recorded(origin)?.size).to.equal(5n);
        const [cosignature] = await store.cosignatures(5);
        expect(cosignature?.witness).to.equal(witness.name);
        openNote(utf8(`${(await store.checkpointAt(5))!.note}${cosignature!.signatureLine}\n`), [parseCosignatureVerifierKey(witness.verifierKey)]);
        expect(lines.filter((line) => line.level !== 'debug')).to.deep.equal([]);
        await submitter.close();

        // A new process reads the last cosigned size from the store, so the witness sees no conflict.
        const restarted = createWitnessSubmitter({ witnesses: [{ url: witness.url, verifierKey: witness.verifierKey }], log, store });
        await restarted.submit(await grow(1));
        expect(witness.answered).to.deep.equal([200, 200, 200]);
        expect(await store.cosignatures(6)).to.have.length(1);
      });

      it('retries once from the size a witness reports in a 409', async () => {
        const { logger, lines } = capturingLogger();
        const submitter = createWitnessSubmitter({ witnesses: [{ url: witness.url, verifierKey: witness.verifierKey }], log, store, logger });
        const earlier = await grow(4);
        witness.setRecorded(origin, { size: 4n, rootHash: Buffer.from(earlier.rootHash) });
        await submitter.submit(await grow(2));
        expect(witness.answered).to.deep.equal([409, 200]);
        expect(await store.cosignatures(6)).to.have.length(1);
        expect(lines.map((line) => [line.level, line.fields['witness_size']])).to.deep.include(['warn', 4]);
      });

      it('logs an error when the witness reports a larger tree than the log has checkpointed', async () => {
        const { logger, lines } = capturingLogger();
        const submitter = createWitnessSubmitter({ witnesses: [{ url: witness.url, verifierKey: witness.verifierKey }], log, store, logger });
        const checkpoint = await grow(2);
        witness.setRecorded(origin, { size: 100n, rootHash: Buffer.alloc(32) });
        await submitter.submit(checkpoint);
        expect(witness.answered).to.deep.equal([409]);
        expect(lines.at(-1)).to.include({ level: 'error' });
        expect(lines.at(-1)?.fields).to.include({ witness_size: 100 });
        expect(await store.cosignatures(2)).to.deep.equal([]);
      });

      it('logs a witness that is down or failing, and checkpointing goes on', async () => {
        const { logger, lines } = capturingLogger();
        const down = await startTestWitness();
        await down.stop();
        witness.failWith(500);
        const submitter = createWitnessSubmitter({
          witnesses: [{ url: down.url, verifierKey: down.verifierKey }, { url: witness.url, verifierKey: witness.verifierKey }], log, store, logger,
        });
        const submissions: Promise<void>[] = [];
        checkpointer = createCheckpointer({ store, log, key, intervalMs: 1000, onCheckpoint: (checkpoint) => void submissions.push(submitter.submit(checkpoint)) });
        expect((await grow(2)).treeSize).to.equal(2);
        await Promise.all(submissions);
        expect((await grow(1)).treeSize).to.equal(3);
        await Promise.all(submissions);
        expect((await store.checkpoints()).map((checkpoint) => checkpoint.treeSize)).to.deep.equal([2, 3]);
        expect(await store.cosignatures(3)).to.deep.equal([]);
        expect(lines.map((line) => [line.level, line.fields['reason'], line.fields['status']])).to.have.deep.members([
          ['warn', 'unreachable', undefined], ['warn', 'http_status', 500], ['warn', 'unreachable', undefined], ['warn', 'http_status', 500],
        ]);

        // Once the witness is back, the next checkpoint is cosigned from size 0: it never cosigned one.
        witness.failWith(undefined);
        await grow(1);
        await Promise.all(submissions);
        expect((await store.cosignatures(4)).map((cosignature) => cosignature.witness)).to.deep.equal([witness.name]);
        await submitter.close();
      });

      it('sends only the newest of the checkpoints made while a call is in flight', async () => {
        const submitter = createWitnessSubmitter({ witnesses: [{ url: witness.url, verifierKey: witness.verifierKey }], log, store });
        const first = submitter.submit(await grow(1));
        const skipped = submitter.submit(await grow(1));
        const newest = submitter.submit(await grow(1));
        await Promise.all([first, skipped, newest]);
        expect(witness.answered).to.deep.equal([200, 200]);
        expect(await Promise.all([1, 2, 3].map(async (size) => (await store.cosignatures(size)).length))).to.deep.equal([1, 0, 1]);
      });
    });
  });

  describe('with a gateway', function () {
    it('serves the latest checkpoint with the witness\'s cosignature, verifiable with both keys', async function () {
      const witness = await startTestWitness();
      const gateway = await startTestGateway({ GATEWAY_AUDIT_WITNESSES: witness.configEntry, GATEWAY_CHECKPOINT_INTERVAL_MS: '200' });
      try {
        const { noteKey, store } = gateway.runtime.audit;
        witness.trustLog(noteKey.origin, noteKey.verifierKey);
        const auditor = await gateway.enrol('auditor');
        const size = await gateway.runtime.audit.log.size();
        const deadline = Date.now() + 10_000;
        while (!((await store.latestCheckpoint())?.treeSize === size && (await store.cosignatures(size)).length > 0) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(await store.cosignatures(size), 'a cosignature within 10 s').to.have.length(1);

        const response = await gateway.client(auditor).send('GET', '/v1/audit/checkpoint');
        expect(response.status).to.equal(200);
        const note = response.body;
        const witnessLine = note.toString('utf8').trimEnd().split('\n').at(-1)!;
        expect(witnessLine.startsWith(`\u2014 ${witness.name} `)).to.equal(true);
        const opened = openNote(note, [parseVerifierKey(noteKey.verifierKey), parseCosignatureVerifierKey(witness.verifierKey)]);
        expect(opened.signatures.map((signature) => signature.name)).to.deep.equal([noteKey.origin, witness.name]);
        expect(opened.text.split('\n')[1]).to.equal(String(size));
      } finally {
        await gateway.stop();
        await witness.stop();
      }
    });
  });
});
