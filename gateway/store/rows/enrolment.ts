/** Enrolment code rows as both engines read them, and the records they become. */
import type { EnrolmentCodeRecord } from '../enrolmentStore.js';

export interface CodeRow {
  code_id: string;
  code_sha256: string;
  uscc: string;
  name: string;
  issued_by: string;
  issued_at: string;
  expires_at: string;
  used_at: string | null;
  used_by: string | null;
}

export function toEnrolmentCode(row: CodeRow): EnrolmentCodeRecord {
  return {
    codeId: row.code_id, codeSha256: row.code_sha256, uscc: row.uscc, name: row.name, issuedBy: row.issued_by,
    issuedAt: row.issued_at, expiresAt: row.expires_at, usedAt: row.used_at ?? undefined, usedBy: row.used_by ?? undefined,
  };
}
