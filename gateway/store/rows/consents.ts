/** Consent rows as both engines read them, and the records they become. */
import type { ConsentRecord, StoredConsentState } from '../store.js';

export interface ConsentRow {
  seq: number;
  consent_id: string;
  enterprise_id: string;
  uscc: string;
  bank_id: string;
  purpose: string;
  questions: string;
  not_before: number;
  expires_at: number;
  max_uses: number | null;
  uses: number;
  state: StoredConsentState;
  replaces: string | null;
  replaced_by: string | null;
  artefact: string;
  artefact_sha256: string;
  granted_at: string;
  ended_at: string | null;
  audit_index: number;
}

export function toConsent(row: ConsentRow): ConsentRecord {
  return {
    seq: row.seq, consentId: row.consent_id, enterpriseId: row.enterprise_id, uscc: row.uscc, bankId: row.bank_id,
    purpose: row.purpose, questions: JSON.parse(row.questions) as string[], notBefore: row.not_before, expiresAt: row.expires_at,
    maxUses: row.max_uses ?? undefined, uses: row.uses, state: row.state, replaces: row.replaces ?? undefined,
    replacedBy: row.replaced_by ?? undefined, artefact: row.artefact, artefactSha256: row.artefact_sha256,
    grantedAt: row.granted_at, endedAt: row.ended_at ?? undefined, auditIndex: row.audit_index,
  };
}
