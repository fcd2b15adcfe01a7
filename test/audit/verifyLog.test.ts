// Pins the full audit of a stored log (gateway/audit/verifyLog.ts): a clean log of 300 entries and five signed
// checkpoints verifies; each kind of tampering done directly in audit.sqlite is found, with its kind and the first
// bad index; a checkpoint an auditor saved earlier catches a log that was cut back and regrown with new entries.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { expect } from 'chai';
import { createAuditLog, createCheckpointer } from '../../gateway/audit/index.js';
import type { AuditEvent } from '../../gateway/audit/index.js';
import { formatCheckpoint } from '../../gateway/audit/checkpoint.js';
import { storedHashCount, storedHashIndex } from '../../gateway/audit/merkle.js';
import { verifyLog } from '../../gateway/audit/verifyLog.js';
import type { LogVerification, VerifyLogOptions } from '../../gateway/audit/verifyLog.js';
import { generateNoteKey, parseSignerKey, signNote } from '../../gateway/crypto/note.js';
import { GatewayError } from '../../gateway/errors/index.js';
import type { NoteKey } from '../../gateway/keys/index.js';
import { openSqliteAuditStore } from '../../gateway/store/index.js';
import { memoryTree } from './memoryTree.js';
import { rejection } from '../support/rejection.js';

const ORIGIN = 'gateway.test/audit';
const SIZE = 300;
const CHECKPOINT_SIZES = [37, 100, 173, 256, 300];
const USCC = '91350100M000100Y43';

const event = (n: number, tag = 'first'): AuditEvent => ({
  kind: 'audit.read', actor: `auditor-${n % 3}`, subject: n % 2 ? USCC : undefined, details: { n, tag },
});

function noteKey(): NoteKey {
  const key = generateNoteKey(ORIGIN);
  return { origin: ORIGIN, signer: parseSignerKey(key.signerKey), verifierKey: key.verifierKey };
}

/** Appends `events` to the log in audit.sqlite `file`, signing a checkpoint at each of `checkpointAt`. */
async function append(file: string, key: NoteKey, from: number, to: number, checkpointAt: readonly number[], tag?: string): Promise<void> {
  const store = openSqliteAuditStore({ file });
  try {
    const log = createAuditLog(store);
    const checkpointer = createCheckpointer({ store, log, key, intervalMs: 60_000 });
    let next = from;
    for (const size of [...checkpointAt.filter((at) => at > from && at <= to), to]) {
      await Promise.all(Array.from({ length: size - next }, (_, offset) => log.append(event(next + offset, tag))));
      next = size;
      await checkpointer.checkpointNow();
    }
  } finally {
    await store.close();
  }
}

describe('audit/verifyLog', function () {
  let dir: string;
  let clean: string;
  let key: NoteKey;
  let copies = 0;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-verify-log-'));
    clean = path.join(dir, 'clean.sqlite');
    key = noteKey();
    await append(clean, key, 0, SIZE, CHECKPOINT_SIZES);
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of the clean log, changed by `tamper` through SQLite directly. */
  async function tampered(tamper: (db: SqliteDatabase) => unknown): Promise<string> {
    const file = path.join(dir, `copy-${copies++}.sqlite`);
    fs.copyFileSync(clean, file);
    const db = new Database(file);
    try {
      await tamper(db);
    } finally {
      db.close();
    }
    return file;
  }

  async function verify(file: string, options: Partial<VerifyLogOptions> = {}): Promise<LogVerification> {
    const store = openSqliteAuditStore({ file });
    try {
      return await verifyLog(store, { verifierKey: key.verifierKey, origin: ORIGIN, pageSize: 64, ...options });
    } finally {
      await store.close();
    }
  }

  const entryText = (db: SqliteDatabase, index: number): string =>
    (db.prepare('SELECT entry FROM audit_entries WHERE entry_index = ?').get(index) as { entry: Buffer }).entry.toString('utf8');
  const setEntry = (db: SqliteDatabase, index: number, text: string): void => {
    db.prepare('UPDATE audit_entries SET entry = ? WHERE entry_index = ?').run(Buffer.from(text, 'utf8'), index);
  };
  const noteAt = async (file: string, size: number): Promise<string> => {
    const store = openSqliteAuditStore({ file });
    try {
      return (await store.checkpointAt(size))?.note ?? '';
    } finally {
      await store.close();
    }
  };
  /** Deletes the entries from `size` on with their stored hashes, and the checkpoints beyond `size`. */
  const cutBack = (db: SqliteDatabase, size: number): void => {
    db.prepare('DELETE FROM audit_entries WHERE entry_index >= ?').run(size);
    db.prepare('DELETE FROM audit_hashes WHERE hash_index >= ?').run(storedHashCount(size));
    db.prepare('DELETE FROM audit_checkpoints WHERE tree_size > ?').run(size);
  };

  describe('a clean log', function () {
    it('verifies: every entry read, every checkpoint checked, the root of the last checkpoint', async function () {
      for (const pageSize of [7, 64, 10_000]) {
        const result = (await verify(clean, { pageSize }));
        expect(result.problems, `page size ${pageSize}`).to.deep.equal([]);
        expect(result).to.include({ ok: true, treeSize: SIZE, checkedEntries: SIZE, checkpointsChecked: CHECKPOINT_SIZES.length, omittedProblems: 0 });
        expect(result.firstBadIndex).to.equal(undefined);
        const store = openSqliteAuditStore({ file: clean });
        try {
          expect(result.rootHash?.equals(Buffer.from((await store.latestCheckpoint())?.rootHash ?? []))).to.equal(true);
        } finally {
          await store.close();
        }
      }
    });

    it('verifies an empty log', async function () {
      const result = await verify(path.join(dir, 'empty.sqlite'));
      expect(result).to.include({ ok: true, treeSize: 0, checkedEntries: 0, checkpointsChecked: 0 });
    });

    it('refuses a verifier key that is not one, and a saved checkpoint that does not verify', async function () {
      expect(await rejection(verify(clean, { verifierKey: 'nonsense' }))).to.be.instanceOf(GatewayError).with.property('code', 'invalid_argument');
      const forged = signNote(formatCheckpoint({ origin: ORIGIN, size: 10n, rootHash: randomBytes(32) }), noteKey().signer);
      expect(await rejection(verify(clean, { savedCheckpoints: [{ label: 'the saved checkpoint', note: forged }] }))).to.be.instanceOf(GatewayError).with.property('code', 'invalid_argument');
    });
  });

  describe('finds', function () {
    it('an edited entry (one digit): modified at its index, the checkpoints after it not reported again', async function () {
      const file = await tampered((db) => setEntry(db, 123, entryText(db, 123).replace('"n":123', '"n":124')));
      const result = (await verify(file));
      expect(result.ok).to.equal(false);
      expect(result.firstBadIndex).to.equal(123);
      expect(result.problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([['modified', 123]]);
    });

    it('a deleted entry: missing at its index', async function () {
      const result = (await verify(await tampered((db) => db.prepare('DELETE FROM audit_entries WHERE entry_index = 77').run())));
      expect(result.firstBadIndex).to.equal(77);
      expect(result.problems[0]).to.include({ kind: 'missing', index: 77 });
      expect(result.checkedEntries).to.equal(SIZE - 1);
      expect(result.rootHash).to.equal(undefined);
    });

    it('two entries swapped: reordered at the first, naming the second', async function () {
      const file = await tampered((db) => {
        const [a, b] = [entryText(db, 40), entryText(db, 210)];
        setEntry(db, 40, b);
        setEntry(db, 210, a);
      });
      const result = (await verify(file));
      expect(result.firstBadIndex).to.equal(40);
      expect(result.problems[0]).to.include({ kind: 'reordered', index: 40 });
      expect(result.problems[0]?.detail).to.include('210');
      // The blobs moved without their columns, which now disagree with them.
      expect(result.problems.filter((problem) => problem.kind !== 'column_mismatch')).to.have.length(1);
    });

    it('the last entries removed with their hashes: truncated at the new size', async function () {
      const result = (await verify(await tampered((db) => {
        db.prepare('DELETE FROM audit_entries WHERE entry_index >= 280').run();
        db.prepare('DELETE FROM audit_hashes WHERE hash_index >= ?').run(storedHashCount(280));
      })));
      expect(result.firstBadIndex).to.equal(280);
      expect(result.problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([['truncated', 280]]);
    });

    it('the last entries removed without their hashes: truncated once', async function () {
      const result = (await verify(await tampered((db) => db.prepare('DELETE FROM audit_entries WHERE entry_index >= 290').run())));
      expect(result.problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([['truncated', 290]]);
    });

    it('an entry rewritten with every stored hash recomputed: the signed root, naming the range since the last good checkpoint', async function () {
      const file = await tampered(async (db) => {
        setEntry(db, 130, entryText(db, 130).replace('"n":130', '"n":131'));
        const entries = (db.prepare('SELECT entry FROM audit_entries ORDER BY entry_index').all() as { entry: Buffer }[]).map((row) => row.entry);
        const rebuilt = (await memoryTree(entries)).stored;
        db.prepare('DELETE FROM audit_hashes').run();
        const insert = db.prepare('INSERT INTO audit_hashes (hash_index, hash) VALUES (?, ?)');
        db.transaction(() => rebuilt.forEach((hash, index) => insert.run(index, hash)))();
      });
      const result = (await verify(file));
      expect(result.firstBadIndex).to.equal(100);
      expect(result.problems).to.have.length(1);
      expect(result.problems[0]).to.include({ kind: 'rewritten', index: 100, treeSize: 173 });
      expect(result.problems[0]?.detail).to.include('100…172');
    });

    it('a checkpoint re-signed by another key: bad_checkpoint, the others still checked', async function () {
      const file = await tampered(async (db) => {
        const other = noteKey();
        const text = (await noteAt(clean, 173)).split('\n\n')[0] as string;
        db.prepare('UPDATE audit_checkpoints SET note = ? WHERE tree_size = 173').run(signNote(`${text}\n`, other.signer));
      });
      const result = (await verify(file));
      expect(result.ok).to.equal(false);
      expect(result.problems.map((problem) => [problem.kind, problem.treeSize])).to.deep.equal([['bad_checkpoint', 173]]);
      expect(result.firstBadIndex).to.equal(undefined);
      expect(result.checkpointsChecked).to.equal(CHECKPOINT_SIZES.length - 1);
    });

    it('checkpoints of another origin: bad_checkpoint for each', async function () {
      const result = (await verify(clean, { origin: 'other.test/audit' }));
      expect(result.problems.map((problem) => problem.kind)).to.deep.equal(CHECKPOINT_SIZES.map(() => 'bad_checkpoint'));
      expect(result.checkpointsChecked).to.equal(0);
    });

    it('a changed stored interior hash: stored_hash_mismatch at the first entry of its subtree', async function () {
      const result = (await verify(await tampered((db) => {
        db.prepare('UPDATE audit_hashes SET hash = ? WHERE hash_index = ?').run(randomBytes(32), storedHashIndex(2, 10));
      })));
      expect(result.problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([['stored_hash_mismatch', 40]]);
    });

    it('a changed stored leaf hash alone: stored_hash_mismatch, as the next checkpoint shows the entry is the signed one', async function () {
      const result = (await verify(await tampered((db) => {
        db.prepare('UPDATE audit_hashes SET hash = ? WHERE hash_index = ?').run(randomBytes(32), storedHashIndex(0, 55));
      })));
      expect(result.problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([['stored_hash_mismatch', 55]]);
      expect(result.problems[0]?.detail).to.include('checkpoint of size 100 signed');
      expect(result.checkpointsChecked).to.equal(CHECKPOINT_SIZES.length);
    });

    it('a changed stored leaf hash after the last checkpoint: modified, as nothing tells entry and hash apart', async function () {
      const file = await tampered((db) => {
        db.prepare('DELETE FROM audit_checkpoints WHERE tree_size = 300').run();
        db.prepare('UPDATE audit_hashes SET hash = ? WHERE hash_index = ?').run(randomBytes(32), storedHashIndex(0, 280));
      });
      expect((await verify(file)).problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([['modified', 280]]);
    });

    it('a missing stored hash: missing_hash at the entry that wrote it', async function () {
      const result = (await verify(await tampered((db) => {
        db.prepare('DELETE FROM audit_hashes WHERE hash_index = ?').run(storedHashIndex(0, 222));
      })));
      expect(result.problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([['missing_hash', 222]]);
    });

    it('a changed subject column: column_mismatch', async function () {
      const result = (await verify(await tampered((db) => db.prepare('UPDATE audit_entries SET subject = NULL WHERE entry_index = 13').run())));
      expect(result.problems).to.have.length(1);
      expect(result.problems[0]).to.include({ kind: 'column_mismatch', index: 13 });
      expect(result.problems[0]?.detail).to.include('subject');
    });

    it('an entry re-serialised with whitespace and a duplicate member: not_canonical (and modified)', async function () {
      const result = (await verify(await tampered((db) => {
        setEntry(db, 9, entryText(db, 9).replace('{', '{ '));
        setEntry(db, 11, entryText(db, 11).replace('{', '{"n":0,'));
      })));
      expect(result.problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([
        ['modified', 9], ['not_canonical', 9], ['modified', 11], ['not_canonical', 11],
      ]);
    });
  });

  describe('with a checkpoint saved earlier', function () {
    it('verifies a log that still contains its tree', async function () {
      for (const size of [37, 256, 300]) {
        const result = (await verify(clean, { savedCheckpoints: [{ label: 'the saved checkpoint', note: (await noteAt(clean, size)) }] }));
        expect(result.ok).to.equal(true);
        expect(result.savedCheckpoints.map(({ label, treeSize, checked }) => ({ label, treeSize, checked }))).to.deep.equal([{ label: 'the saved checkpoint', treeSize: size, checked: true }]);
      }
    });

    it('finds a log cut back and regrown with other entries, which its own checkpoints cannot', async function () {
      const saved = await noteAt(clean, 256);
      const file = await tampered((db) => cutBack(db, 150));
      // The operator holds the note key, so the regrown log gets fresh, validly signed checkpoints.
      await append(file, key, 150, SIZE, [200, 300], 'second');
      expect(await verify(file)).to.include({ ok: true, checkpointsChecked: 4 });
      const result = (await verify(file, { savedCheckpoints: [{ label: 'the saved checkpoint', note: saved }] }));
      expect(result.ok).to.equal(false);
      expect(result.problems.map((problem) => [problem.kind, problem.treeSize])).to.deep.equal([['inconsistent_with_saved_checkpoint', 256]]);
      // A saved checkpoint from before the cut still matches.
      const before = (await verify(file, { savedCheckpoints: [{ label: 'the saved checkpoint', note: (await noteAt(clean, 100)) }] }));
      expect(before.ok).to.equal(true);
      expect(before.savedCheckpoints[0]?.checked).to.equal(true);
    });

    it('names the split view when the log holds another checkpoint of the saved size', async function () {
      const saved = await noteAt(clean, 256);
      const file = await tampered((db) => cutBack(db, 150));
      await append(file, key, 150, SIZE, [256], 'second');
      const result = (await verify(file, { savedCheckpoints: [{ label: 'the saved checkpoint', note: saved }] }));
      expect(result.problems[0]).to.include({ kind: 'inconsistent_with_saved_checkpoint', treeSize: 256 });
      expect(result.problems[0]?.detail).to.include('split view');
    });

    it('finds a log cut back below its size: truncated', async function () {
      const file = await tampered((db) => cutBack(db, 200));
      expect((await verify(file)).ok).to.equal(true);
      const result = (await verify(file, { savedCheckpoints: [{ label: 'the saved checkpoint', note: (await noteAt(clean, 256)) }] }));
      expect(result.problems.map((problem) => [problem.kind, problem.index])).to.deep.equal([['truncated', 200]]);
      expect(result.savedCheckpoints[0]?.checked).to.equal(false);
    });
  });
});
