// Pins "the gateway checks its own log": with the server stopped, the audit database is tampered with in each way
// below, and the next start refuses with audit_log_inconsistent, a message saying what was found and the command to
// investigate, and signs nothing (no checkpoint row, the checkpoint file unchanged). A log tampered with while the
// gateway runs halts its writes instead of being checkpointed. A rollback of the database and the checkpoint file
// together is caught by the witness's copy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { expect } from 'chai';
import { createAuditLog, createCheckpointer, readCheckpointFile } from '../../gateway/audit/index.js';
import { formatCheckpoint } from '../../gateway/audit/checkpoint.js';
import { storedHashCount, storedHashesForRecord } from '../../gateway/audit/merkle.js';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { leafHash } from '../../gateway/crypto/merkleHash.js';
import { generateNoteKey, parseSignerKey, signNote } from '../../gateway/crypto/note.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { createLogger } from '../../gateway/observability/index.js';
import { loadNoteKey } from '../../gateway/keys/index.js';
import { AUDIT_DATABASE_FILE, openRuntime } from '../../gateway/runtime/index.js';
import { openSqliteAuditStore } from '../../gateway/store/index.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';
import { startTestGateway } from '../support/gateway.js';

const SIZE = 40;
/** Entries appended after the last checkpoint, signed by nothing yet. */
const TAIL = 3;

interface Signed {
  readonly rows: number[];
  readonly file: string | undefined;
}

async function refusal(action: () => Promise<unknown>): Promise<GatewayError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** Rewrites entry `index` and recomputes every stored hash from the entries, as an attacker with the database would. */
async function rewriteAndRehash(db: SqliteDatabase, index: number): Promise<void> {
  const { entry } = db.prepare('SELECT entry FROM audit_entries WHERE entry_index = ?').get(index) as { entry: Buffer };
  db.prepare('UPDATE audit_entries SET entry = ? WHERE entry_index = ?').run(Buffer.from(entry.toString('utf8').replace(`"n":${index}`, '"n":999')), index);
  const entries = db.prepare('SELECT entry FROM audit_entries ORDER BY entry_index').all() as { entry: Buffer }[];
  const stored: Buffer[] = [];
  for (const [n, row] of entries.entries()) stored.push(...await storedHashesForRecord(n, leafHash(row.entry), async (indexes) => indexes.map((i) => stored[i] as Buffer)));
  db.prepare('DELETE FROM audit_hashes').run();
  const insert = db.prepare('INSERT INTO audit_hashes (hash_index, hash) VALUES (?, ?)');
  stored.forEach((hash, i) => insert.run(i, hash));
}

/** Removes the entries from `size` on, their stored hashes and the checkpoints beyond it. */
function truncate(db: SqliteDatabase, size: number, options: { hashes: boolean; checkpoints: boolean }): void {
  db.prepare('DELETE FROM audit_entries WHERE entry_index >= ?').run(size);
  if (options.hashes) db.prepare('DELETE FROM audit_hashes WHERE hash_index >= ?').run(storedHashCount(size));
  if (options.checkpoints) db.prepare('DELETE FROM audit_checkpoints WHERE tree_size > ?').run(size);
}

describe('the gateway checks its own log (audit/anchor.ts)', function () {
  this.timeout(60_000);
  let dir: string;
  let config: GatewayConfig;
  let auditFile: string;
  /** Copies of the checkpoint notes the gateway signed, by size: a witness's or an auditor's. */
  const notes = new Map<number, string>();

  async function tamper(change: (db: SqliteDatabase) => unknown): Promise<void> {
    const db = new Database(auditFile);
    try {
      await change(db);
    } finally {
      db.close();
    }
  }

  function signedState(): Signed {
    const db = new Database(auditFile, { readonly: true });
    try {
      const rows = (db.prepare('SELECT tree_size FROM audit_checkpoints ORDER BY tree_size').all() as { tree_size: number }[]).map((row) => row.tree_size);
      return { rows, file: fs.existsSync(config.checkpointFile) ? fs.readFileSync(config.checkpointFile, 'utf8') : undefined };
    } finally {
      db.close();
    }
  }

  /** Opening refuses with audit_log_inconsistent, whose message includes `detail`; nothing is signed. */
  async function expectRefusal(detail: string, env: Record<string, string> = {}): Promise<GatewayError> {
    const before = signedState();
    const error = await refusal(() => openRuntime(testConfig(dir, { GATEWAY_INGEST_WORKERS: '1', ...env })));
    expect(error.code, error.message).to.equal('audit_log_inconsistent');
    expect(error.message).to.include(detail).and.include('Writes are stopped').and.include(`gateway audit verify --checkpoint ${config.checkpointFile}`);
    expect(signedState()).to.deep.equal(before);
    return error;
  }

  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-logcheck-'));
    config = testConfig(dir, { GATEWAY_INGEST_WORKERS: '1' });
    auditFile = path.join(config.dataDir, AUDIT_DATABASE_FILE);
    await prepareTestKeys(config);
    const runtime = (await openRuntime(config));
    try {
      for (let n = 0; n < SIZE; n++) {
        await runtime.audit.log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n } });
        if (n + 1 === 10 || n + 1 === 25) await runtime.audit.checkpointer.checkpointNow();
      }
    } finally {
      await runtime.close();
    }
    const store = openSqliteAuditStore({ file: auditFile });
    try {
      for (const checkpoint of await store.checkpoints()) notes.set(checkpoint.treeSize, checkpoint.note);
      // A tail no checkpoint covers yet, as a crash before the next checkpoint leaves.
      const log = createAuditLog(store);
      for (let n = SIZE; n < SIZE + TAIL; n++) await log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n } });
    } finally {
      await store.close();
    }
    expect(signedState().rows).to.deep.equal([10, 25, SIZE]);
    expect(fs.readFileSync(config.checkpointFile, 'utf8')).to.equal(notes.get(SIZE));
  });

  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts on an untouched log, and the next checkpoint extends the last one', async function () {
    const runtime = (await openRuntime(config));
    const checkpoint = await runtime.audit.checkpointer.checkpointNow();
    await runtime.close();
    expect(checkpoint?.treeSize).to.equal(SIZE + TAIL);
    expect(fs.readFileSync(config.checkpointFile, 'utf8')).to.equal(checkpoint?.note);
  });

  it('refuses an entry rewritten with every hash recomputed and the checkpoint rows deleted', async function () {
    await tamper(async (db) => {
      await rewriteAndRehash(db, 5);
      db.prepare('DELETE FROM audit_checkpoints').run();
    });
    await expectRefusal(`the audit database no longer holds the checkpoint of size ${SIZE}`);
  });

  it('refuses an entry rewritten with every hash recomputed, the checkpoint rows kept', async function () {
    await tamper((db) => rewriteAndRehash(db, 5));
    await expectRefusal(`does not extend the checkpoint of size ${SIZE} the gateway signed`);
  });

  it('refuses the tail and the later checkpoints truncated', async function () {
    await tamper((db) => truncate(db, 30, { hashes: true, checkpoints: true }));
    await expectRefusal(`the audit database no longer holds the checkpoint of size ${SIZE}`);
  });

  it('refuses the tail truncated with its hashes, the checkpoints kept', async function () {
    await tamper((db) => truncate(db, 30, { hashes: true, checkpoints: false }));
    await expectRefusal(`the audit log holds 30 entries, but the gateway signed a checkpoint of size ${SIZE}`);
  });

  it('refuses unsigned tail entries removed without their hashes', async function () {
    await tamper((db) => truncate(db, SIZE + 1, { hashes: false, checkpoints: false }));
    await expectRefusal(`the audit log has stored hashes past its last entry, ${SIZE}`);
  });

  it('refuses an unsigned tail entry changed after it was written', async function () {
    await tamper((db) => db.prepare('UPDATE audit_entries SET entry = ? WHERE entry_index = ?').run(Buffer.from('{"forged":true}'), SIZE + 1));
    await expectRefusal(`audit entry ${SIZE + 1} does not hash to its stored leaf hash`);
  });

  it('refuses a checkpoint file that the log\'s key did not sign', async function () {
    const forger = parseSignerKey(generateNoteKey(config.auditOrigin).signerKey);
    fs.writeFileSync(config.checkpointFile, signNote(formatCheckpoint({ origin: config.auditOrigin, size: 99n, rootHash: Buffer.alloc(32, 7) }), forger));
    await expectRefusal(`${config.checkpointFile} is not a checkpoint signed with this log's note key`);
  });

  it('catches a rollback of the database and the checkpoint file together with the witness\'s copy', async function () {
    await tamper((db) => truncate(db, 25, { hashes: true, checkpoints: true }));
    fs.writeFileSync(config.checkpointFile, notes.get(25) as string);
    // Consistent with itself: without an outside copy, this rollback cannot be told from a log that stopped at 25.
    await (await openRuntime(config)).close();
    const witnessCopy = path.join(dir, 'witness-checkpoint.txt');
    fs.writeFileSync(witnessCopy, notes.get(SIZE) as string);
    await expectRefusal(`the audit log holds 25 entries, but the gateway signed a checkpoint of size ${SIZE} (${witnessCopy})`, { GATEWAY_AUDIT_WITNESS_CHECKPOINT: witnessCopy });
  });

  it('starts without the checkpoint file, warning, and writes it again from the latest stored checkpoint', async function () {
    fs.rmSync(config.checkpointFile);
    const lines: string[] = [];
    const logger = createLogger('warn', new Writable({ write: (chunk: Buffer, _encoding, done) => { lines.push(chunk.toString('utf8')); done(); } }));
    const runtime = (await openRuntime(config, { logger }));
    expect(lines.join('')).to.include(`${config.checkpointFile} is missing`);
    expect(fs.readFileSync(config.checkpointFile, 'utf8')).to.equal(notes.get(SIZE));
    await runtime.close();
  });

  it('halts writes when the log shrinks under a running gateway: no append, no checkpoint, /readyz 503', async function () {
    const gateway = await startTestGateway();
    try {
      const { log, checkpointer, store } = gateway.runtime.audit;
      for (let n = 0; n < 20; n++) await log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n } });
      await checkpointer.checkpointNow();
      const file = path.join(gateway.config.dataDir, AUDIT_DATABASE_FILE);
      const before = fs.readFileSync(gateway.config.checkpointFile, 'utf8');
      const db = new Database(file);
      truncate(db, 12, { hashes: true, checkpoints: true });
      db.close();
      const append = await log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n: 'after' } }).then(() => undefined, (error: unknown) => error);
      expect(append).to.be.instanceOf(GatewayError).with.property('code', 'audit_log_inconsistent');
      expect((append as GatewayError).message).to.include('the audit log shrank from 20 to 12 entries');
      expect(await refusal(() => checkpointer.checkpointNow())).to.have.property('code', 'audit_log_inconsistent');
      expect((await store.checkpoints()).map((checkpoint) => checkpoint.treeSize)).to.deep.equal([]);
      expect(fs.readFileSync(gateway.config.checkpointFile, 'utf8')).to.equal(before);
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).to.equal(503);
      expect(((await ready.json()) as { code: string }).code).to.equal('audit_log_inconsistent');
    } finally {
      await gateway.stop();
    }
  });

  it('never signs a checkpoint over a tree that does not extend the last one signed', async function () {
    // History rewritten under a process that shares the log: it reads the rewritten hashes (it has cached none).
    await tamper((db) => rewriteAndRehash(db, 5));
    const files = { checkpointFile: config.checkpointFile };
    const key = loadNoteKey(config.keysDir, config.auditOrigin);
    const store = openSqliteAuditStore({ file: auditFile });
    try {
      const log = createAuditLog(store);
      const checkpointer = createCheckpointer({ store, log, key, intervalMs: 60_000, files, lastSigned: readCheckpointFile(config.checkpointFile, key, files) });
      await log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n: 'more' } });
      const before = signedState();
      const error = await refusal(() => checkpointer.checkpointNow());
      expect(error.code).to.equal('audit_log_inconsistent');
      expect(error.message).to.include(`does not extend the checkpoint of size ${SIZE} the gateway signed`).and.include('the consistency proof fails');
      expect(signedState()).to.deep.equal(before);
      expect(log.halted()?.code).to.equal('audit_log_inconsistent');
      expect(await log.append({ kind: 'audit.read', actor: 'auditor-1', details: { n: 'refused' } }).then(() => 'appended', (rejection: GatewayError) => rejection.code))
        .to.equal('audit_log_inconsistent');
    } finally {
      await store.close();
    }
  });
});
