/**
 * Consent use counts agree with the audit log. An answer's use is counted (durably, in the records database) before
 * its `verification.answered` entry is written (in the audit database), so that a budget is never overspent; a crash
 * between the two leaves the count ahead of the log, and a consent could be exhausted by answers nobody received.
 * The log is the one source of truth: at start, before serving, `gateway serve` counts the fresh answers in the
 * entries written since the last recount, and every consent's `uses` becomes what the log shows.
 *
 * Run only where no verification is in flight against the same data (the serving process, before it listens): a
 * use counted by another running process whose entry is not written yet would be taken back.
 */
import type { AuditLog } from '../audit/index.js';
import type { ConsentStore, ReconciledConsentUse } from '../store/index.js';

/** Entries read per query. */
const PAGE = 5000;

interface AnsweredEntry {
  readonly questions?: ReadonlyArray<{ readonly repeated?: unknown }>;
}

/** Answers given afresh (not repeated from the reuse window), per consent, in the entries [from, to). */
async function freshAnswers(audit: AuditLog, from: number, to: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let start = from; start < to;) {
    const page = await audit.entries({ start, end: to, kind: 'verification.answered', limit: PAGE });
    for (const stored of page) {
      if (stored.consentId === undefined) continue;
      const entry = JSON.parse(Buffer.from(stored.entry).toString('utf8')) as AnsweredEntry;
      const fresh = (entry.questions ?? []).filter((question) => question.repeated === false).length;
      if (fresh > 0) counts.set(stored.consentId, (counts.get(stored.consentId) ?? 0) + fresh);
    }
    if (page.length < PAGE) break;
    start = (page.at(-1)?.index ?? to) + 1;
  }
  return counts;
}

/** Recounts uses from the log since the last recount; returns the consents whose count was not what the log shows. */
export async function reconcileConsentUses(store: ConsentStore, audit: AuditLog, now: Date = new Date()): Promise<ReconciledConsentUse[]> {
  const size = await audit.size();
  const from = Math.min(await store.consentUsesLoggedThrough(), size);
  return store.reconcileConsentUses(await freshAnswers(audit, from, size), size, now.toISOString());
}
