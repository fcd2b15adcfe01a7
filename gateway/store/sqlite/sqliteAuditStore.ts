/**
 * The audit log on SQLite: a database file of its own (audit.sqlite), WAL, synchronous=FULL, so that an append is
 * on disk when its transaction commits and a long ingestion batch in the records database never holds it up.
 * BEGIN IMMEDIATE serialises appends, also between the server and CLI processes.
 */
import type { Statement } from 'better-sqlite3';
import { GatewayError } from '../../errors/index.js';
import { storedHashCount } from '../../audit/merkle.js';
import { auditMigrationsDir } from '../../paths.js';
import type { AppendBatch, AuditStore } from '../auditStore.js';
import { isStorageFull } from './errors.js';
import { createSerial, type Synchronous } from './serial.js';
import { applyMigrations, connect, createPrivateDatabaseFile, quickCheck, reclaimWal } from './sqliteStore.js';
import { toCheckpoint, toEntry } from '../rows/audit.js';
import type { CheckpointRow, EntryRow } from '../rows/audit.js';

/** Enough placeholders for one query; larger reads are split. */
const MAX_PARAMETERS = 500;

export function openSqliteAuditStore(options: { file: string }): AuditStore {
  createPrivateDatabaseFile(options.file);
  const db = connect(options.file);
  applyMigrations(db, auditMigrationsDir);
  const statements = {
    size: db.prepare('SELECT coalesce(max(entry_index) + 1, 0) AS size FROM audit_entries'),
    insertEntry: db.prepare(`INSERT INTO audit_entries (entry_index, entry, kind, actor, subject, consent_id, recorded_at)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    insertHash: db.prepare('INSERT INTO audit_hashes (hash_index, hash) VALUES (?, ?)'),
    hashCount: db.prepare('SELECT coalesce(max(hash_index) + 1, 0) AS n FROM audit_hashes'),
    addCheckpoint: db.prepare('INSERT OR IGNORE INTO audit_checkpoints (tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?)'),
    latestCheckpoint: db.prepare('SELECT * FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1'),
    checkpointAt: db.prepare('SELECT * FROM audit_checkpoints WHERE tree_size = ?'),
    checkpoints: db.prepare('SELECT * FROM audit_checkpoints ORDER BY tree_size'),
    addCosignature: db.prepare('INSERT OR IGNORE INTO audit_cosignatures (tree_size, witness, signature_line, received_at) VALUES (?, ?, ?, ?)'),
    cosignatures: db.prepare('SELECT witness, signature_line FROM audit_cosignatures WHERE tree_size = ? ORDER BY witness'),
  };
  const hashStatements = new Map<number, Statement<number[]>>();
  const entryQueries = new Map<string, Statement<(string | number)[]>>();

  function readStored(indexes: readonly number[]): Map<number, Buffer> {
    const found = new Map<number, Buffer>();
    for (let offset = 0; offset < indexes.length; offset += MAX_PARAMETERS) {
      const part = indexes.slice(offset, offset + MAX_PARAMETERS);
      let statement = hashStatements.get(part.length);
      if (!statement) {
        statement = db.prepare<number[]>(`SELECT hash_index, hash FROM audit_hashes WHERE hash_index IN (${part.map(() => '?').join(',')})`);
        hashStatements.set(part.length, statement);
      }
      for (const row of statement.all(...part) as { hash_index: number; hash: Buffer }[]) found.set(row.hash_index, row.hash);
    }
    return found;
  }

  function readHashes(indexes: readonly number[]): Buffer[] {
    const stored = readStored(indexes);
    return indexes.map((index) => {
      const hash = stored.get(index);
      if (!hash) throw new GatewayError('internal_error', `stored hash ${index} is missing from the audit log`);
      return hash;
    });
  }

  const serial = createSerial(db);

  function appendTransaction(build: (size: number) => Promise<AppendBatch>): Promise<{ firstIndex: number; size: number }> {
    return serial.transaction(async () => {
      const size = (statements.size.get() as { size: number }).size;
      const firstHash = (statements.hashCount.get() as { n: number }).n;
      // The hashes of a tree of `size` entries end exactly where the next entry's begin; anything else is damage
      // (deleted entries, stray hashes), and appending would misplace every new hash.
      if (firstHash !== storedHashCount(size)) {
        throw new GatewayError('internal_error', `the audit log holds ${firstHash} stored hashes for ${size} entries; run \`gateway audit verify\``);
      }
      const batch = await build(size);
      batch.entries.forEach((entry, offset) => {
        statements.insertEntry.run(size + offset, entry.entry, entry.kind, entry.actor, entry.subject ?? null, entry.consentId ?? null, entry.recordedAt);
      });
      batch.hashes.forEach((hash, offset) => statements.insertHash.run(firstHash + offset, hash));
      return { firstIndex: size, size: size + batch.entries.length };
    });
  }

  const synchronous: Synchronous<Omit<AuditStore, 'append'>> = {
    size: () => (statements.size.get() as { size: number }).size,
    readHashes: (indexes) => readHashes(indexes),
    entries(query) {
      const conditions = ['entry_index >= ?', 'entry_index < ?'];
      const parameters: (string | number)[] = [query.start, query.end];
      const add = (condition: string, value: string | undefined) => {
        if (value === undefined) return;
        conditions.push(condition);
        parameters.push(value);
      };
      add('actor = ?', query.actor);
      add('subject = ?', query.subject);
      add('consent_id = ?', query.consentId);
      add('kind = ?', query.kind);
      add('recorded_at >= ?', query.from);
      add('recorded_at < ?', query.to);
      // One prepared statement per combination of filters (at most 64), not one per call.
      const sql = `SELECT * FROM audit_entries WHERE ${conditions.join(' AND ')} ORDER BY entry_index LIMIT ?`;
      let statement = entryQueries.get(sql);
      if (!statement) {
        statement = db.prepare<(string | number)[]>(sql);
        entryQueries.set(sql, statement);
      }
      const rows = statement.all(...parameters, query.limit) as EntryRow[];
      return rows.map(toEntry);
    },
    addCheckpoint(checkpoint) {
      statements.addCheckpoint.run(checkpoint.treeSize, checkpoint.rootHash, checkpoint.note, checkpoint.createdAt);
    },
    latestCheckpoint() {
      const row = statements.latestCheckpoint.get() as CheckpointRow | undefined;
      return row && toCheckpoint(row);
    },
    checkpointAt(treeSize) {
      const row = statements.checkpointAt.get(treeSize) as CheckpointRow | undefined;
      return row && toCheckpoint(row);
    },
    checkpoints: () => (statements.checkpoints.all() as CheckpointRow[]).map(toCheckpoint),
    addCosignature(treeSize, cosignature, receivedAt) {
      statements.addCosignature.run(treeSize, cosignature.witness, cosignature.signatureLine, receivedAt);
    },
    cosignatures: (treeSize) =>
      (statements.cosignatures.all(treeSize) as { witness: string; signature_line: string }[]).map((row) => ({ witness: row.witness, signatureLine: row.signature_line })),
    integrityProblems: () => quickCheck(db),
    close: () => {
      if (db.open) db.close();
    },
  };
  return {
    ...serial.wrap(synchronous),
    async append(build) {
      try {
        return await appendTransaction(build);
      } catch (error) {
        if (!isStorageFull(error)) throw error;
        reclaimWal(db);
        throw new GatewayError('storage_full', `the disk holding ${options.file} is full`, { cause: error });
      }
    },
  };
}
