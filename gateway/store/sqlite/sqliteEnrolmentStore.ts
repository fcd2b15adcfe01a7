/** Enrolment codes on SQLite (migration 0015); the contract is in ../enrolmentStore.ts. */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { EnrolmentStore } from '../enrolmentStore.js';
import { toEnrolmentCode } from '../rows/enrolment.js';
import type { CodeRow } from '../rows/enrolment.js';

export function enrolmentStore(db: SqliteDatabase): EnrolmentStore {
  const statements = {
    insert: db.prepare(`INSERT INTO enrolment_codes (code_id, code_sha256, uscc, name, issued_by, issued_at, expires_at)
      VALUES (@codeId, @codeSha256, @uscc, @name, @issuedBy, @issuedAt, @expiresAt)`),
    // One statement: the row is claimed and read back atomically (times are ISO 8601 UTC, so text order is time order).
    redeem: db.prepare('UPDATE enrolment_codes SET used_at = ? WHERE code_sha256 = ? AND used_at IS NULL AND expires_at > ? RETURNING *'),
    recordEnrolment: db.prepare('UPDATE enrolment_codes SET used_by = ? WHERE code_id = ?'),
    list: db.prepare('SELECT * FROM enrolment_codes ORDER BY issued_at, code_id'),
  };
  return {
    async addEnrolmentCode(code) {
      statements.insert.run(code);
    },
    async redeemEnrolmentCode(codeSha256, at) {
      const row = statements.redeem.get(at, codeSha256, at) as CodeRow | undefined;
      return row && toEnrolmentCode(row);
    },
    async recordEnrolment(codeId, participantId) {
      statements.recordEnrolment.run(participantId, codeId);
    },
    async listEnrolmentCodes() {
      return (statements.list.all() as CodeRow[]).map(toEnrolmentCode);
    },
  };
}
