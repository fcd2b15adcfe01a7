/**
 * The audit log on PostgreSQL, in the same database as the rest (the tables of migration 0001). Appends from every
 * instance are sequenced by the log head, one row (audit_head, id 1) that each append locks FOR UPDATE for its whole
 * transaction: the next append, here or in another instance, reads the size only after this one has committed, so
 * indexes stay contiguous and the stored hashes are written in order.
 */
import { GatewayError } from '../../errors/index.js';
import { storedHashCount } from '../../audit/merkle.js';
import type { AppendBatch, AuditStore } from '../auditStore.js';
import { applyMigrations, bytes, createDatabase } from './pgDatabase.js';
import { toCheckpoint, toEntry } from '../rows/audit.js';
import type { CheckpointRow, EntryRow } from '../rows/audit.js';

export async function openPostgresAuditStore(options: { url: string; poolSize?: number }): Promise<AuditStore> {
  // A few connections: appends are one at a time anyway (the head row), reads of hashes and entries run beside them.
  const db = createDatabase({ url: options.url, poolSize: options.poolSize ?? 4, applicationName: 'gateway-audit' });
  try {
    await applyMigrations(db);
  } catch (error) {
    await db.close();
    throw error;
  }

  async function readHashes(indexes: readonly number[]): Promise<Buffer[]> {
    const found = new Map<number, Buffer>();
    if (indexes.length > 0) {
      const { rows } = await db.query<{ hash_index: number; hash: Buffer }>('SELECT hash_index, hash FROM audit_hashes WHERE hash_index = ANY ($1::bigint[])',
        [[...new Set(indexes)]]);
      for (const row of rows) found.set(row.hash_index, row.hash);
    }
    return indexes.map((index) => {
      const hash = found.get(index);
      if (!hash) throw new GatewayError('internal_error', `stored hash ${index} is missing from the audit log`);
      return hash;
    });
  }

  function append(build: (size: number) => Promise<AppendBatch>): Promise<{ firstIndex: number; size: number }> {
    return db.transaction(async (tx) => {
      const head = (await tx.query<{ size: number }>('SELECT size FROM audit_head WHERE id = 1 FOR UPDATE')).rows[0];
      if (!head) throw new GatewayError('internal_error', 'the audit log head row is missing; run `gateway audit verify`');
      const { size } = head;
      const firstHash = (await tx.query<{ n: number }>('SELECT coalesce(max(hash_index) + 1, 0) AS n FROM audit_hashes')).rows[0]?.n ?? 0;
      // The hashes of a tree of `size` entries end exactly where the next entry's begin; anything else is damage
      // (deleted entries, stray hashes), and appending would misplace every new hash.
      if (firstHash !== storedHashCount(size)) {
        throw new GatewayError('internal_error', `the audit log holds ${firstHash} stored hashes for ${size} entries; run \`gateway audit verify\``);
      }
      const batch = await build(size);
      const { entries, hashes } = batch;
      if (entries.length > 0) {
        await tx.query(`INSERT INTO audit_entries (entry_index, entry, kind, actor, subject, consent_id, recorded_at)
          SELECT $1::bigint + n - 1, e, k, a, s, c, r FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
            WITH ORDINALITY AS u (e, k, a, s, c, r, n)`, [
          size, entries.map((entry) => bytes(entry.entry)), entries.map((entry) => entry.kind), entries.map((entry) => entry.actor),
          entries.map((entry) => entry.subject ?? null), entries.map((entry) => entry.consentId ?? null), entries.map((entry) => entry.recordedAt),
        ]);
      }
      if (hashes.length > 0) {
        await tx.query('INSERT INTO audit_hashes (hash_index, hash) SELECT $1::bigint + n - 1, h FROM unnest($2::bytea[]) WITH ORDINALITY AS u (h, n)',
          [firstHash, hashes.map((hash) => bytes(hash))]);
      }
      await tx.query('UPDATE audit_head SET size = $1 WHERE id = 1', [size + entries.length]);
      return { firstIndex: size, size: size + entries.length };
    });
  }

  return {
    append,
    size: async () => (await db.query<{ size: number }>('SELECT size FROM audit_head WHERE id = 1')).rows[0]?.size ?? 0,
    readHashes,
    async entries(query) {
      const conditions = ['entry_index >= $1', 'entry_index < $2'];
      const parameters: (string | number)[] = [query.start, query.end];
      const add = (column: string, operator: string, value: string | undefined) => {
        if (value === undefined) return;
        parameters.push(value);
        conditions.push(`${column} ${operator} $${parameters.length}`);
      };
      add('actor', '=', query.actor);
      add('subject', '=', query.subject);
      add('consent_id', '=', query.consentId);
      add('kind', '=', query.kind);
      add('recorded_at', '>=', query.from);
      add('recorded_at', '<', query.to);
      parameters.push(query.limit);
      const { rows } = await db.query<EntryRow>(
        `SELECT * FROM audit_entries WHERE ${conditions.join(' AND ')} ORDER BY entry_index LIMIT $${parameters.length}`, parameters);
      return rows.map(toEntry);
    },
    async addCheckpoint(checkpoint) {
      await db.query('INSERT INTO audit_checkpoints (tree_size, root_hash, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [checkpoint.treeSize, bytes(checkpoint.rootHash), checkpoint.note, checkpoint.createdAt]);
    },
    async latestCheckpoint() {
      const { rows } = await db.query<CheckpointRow>('SELECT * FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1');
      return rows[0] && toCheckpoint(rows[0]);
    },
    async checkpointAt(treeSize) {
      const { rows } = await db.query<CheckpointRow>('SELECT * FROM audit_checkpoints WHERE tree_size = $1', [treeSize]);
      return rows[0] && toCheckpoint(rows[0]);
    },
    checkpoints: async () => (await db.query<CheckpointRow>('SELECT * FROM audit_checkpoints ORDER BY tree_size')).rows.map(toCheckpoint),
    async addCosignature(treeSize, cosignature, receivedAt) {
      await db.query('INSERT INTO audit_cosignatures (tree_size, witness, signature_line, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [treeSize, cosignature.witness, cosignature.signatureLine, receivedAt]);
    },
    cosignatures: async (treeSize) =>
      (await db.query<{ witness: string; signature_line: string }>('SELECT witness, signature_line FROM audit_cosignatures WHERE tree_size = $1 ORDER BY witness',
        [treeSize])).rows.map((row) => ({ witness: row.witness, signatureLine: row.signature_line })),
    async integrityProblems() {
      // Cheap checks of what the head promises: as many entries as it counts, and the hashes that many entries have.
      const { rows } = await db.query<{ size: number | null; entries: number; next_index: number; hashes: number }>(`SELECT
        (SELECT size FROM audit_head WHERE id = 1) AS size, (SELECT count(*) FROM audit_entries) AS entries,
        (SELECT coalesce(max(entry_index) + 1, 0) FROM audit_entries) AS next_index, (SELECT coalesce(max(hash_index) + 1, 0) FROM audit_hashes) AS hashes`);
      const row = rows[0];
      if (!row || row.size === null) return ['the audit log head row (audit_head, id 1) is missing'];
      const problems: string[] = [];
      if (row.entries !== row.size || row.next_index !== row.size) {
        problems.push(`the audit log head says ${row.size} entries, but ${row.entries} are stored (indexes up to ${row.next_index - 1})`);
      }
      if (row.hashes !== storedHashCount(row.size)) problems.push(`the audit log holds ${row.hashes} stored hashes for ${row.size} entries`);
      return problems;
    },
    close: () => db.close(),
  };
}
