/**
 * Verifications: a bank asks fixed questions about subjects that consented, and gets one JWS signed by the gateway
 * with an answer per question — never a record value, never a threshold of its choosing (docs/privacy.md).
 *
 * For each item: the consent must be addressed to this bank and be about this subject — checked first, without
 * waiting for anything, so that a bank naming another bank's consent can neither see that it is in use nor delay it.
 * Then, under the consent's lock (so a revocation is ordered against it): it must be active and cover each question,
 * and the question must allow its purpose; the records are read and the questions evaluated in memory; the item's
 * audit entry is appended durably. Then the whole answer is signed, and an entry with the hash of the signed answer
 * is appended, before it is returned.
 *
 * Probing: the same question about the same subject under the same consent within the reuse window gets the same
 * answer again and does not count against the consent's budget; the bank and each consent have rate limits. An item
 * the bank has no consent for is refused with the same `consent_missing` whether or not the gateway holds anything
 * about the subject, and whether or not the consent id exists.
 *
 * Flooding (docs/privacy.md): every refused item costs the bank, against a budget of refusals much lower than its
 * budget of questions. Items naming no consent of this bank about the subject are recorded together, in one
 * `verification.unmatched` entry per request about no one, so that a bank naming random consent ids and a victim's
 * USCC cannot crowd the victim's view of the accesses made about it.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AuditLog } from '../audit/index.js';
import type { ConsentService } from '../consent/index.js';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { Principal } from '../identity/index.js';
import { todayInShanghai } from '../ingest/index.js';
import type { QuestionCatalog } from '../policies/index.js';
import type { RecordReader } from '../records/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import { createGroupCommit } from '../store/groupCommit.js';
import type { ConsentRecord, ConsentStore, ConsentUse, ReportStore } from '../store/index.js';
import { answerQuestions, consentRefusal, disputedMark } from './answers.js';
import type { GivenAnswer, RefusalCode } from './answers.js';

export interface VerificationItemRequest {
  readonly subject: { readonly uscc: string };
  readonly consent_id: string;
  readonly questions: readonly string[];
}

export interface VerificationRequest {
  readonly loan_reference: string;
  readonly officer: string;
  readonly items: readonly VerificationItemRequest[];
}

/** An answer in a verification: as signed, and whether it is the one given earlier in the reuse window. */
export interface AnsweredQuestion extends GivenAnswer {
  readonly repeated: boolean;
}

export type { RefusalCode } from './answers.js';

export type ItemOutcome =
  | { readonly subject: { readonly uscc: string }; readonly consent_id: string; readonly status: 'answered'; readonly purpose: string;
      readonly questions: readonly AnsweredQuestion[]; readonly audit_index: number }
  | { readonly subject: { readonly uscc: string }; readonly consent_id: string; readonly status: 'refused'; readonly code: RefusalCode;
      readonly audit_index: number };

export interface VerificationResult {
  /** The compact JWS the bank keeps. */
  readonly answer: string;
  readonly items: readonly ItemOutcome[];
  readonly answerAuditIndex: number;
}

export interface VerificationLimits {
  /** Questions a bank may have answered per second. */
  readonly bankPerSecond: number;
  /** Questions per consent per minute. */
  readonly consentPerMinute: number;
  /** Seconds within which the same question gets the same answer and counts once. */
  readonly reuseSeconds: number;
  /** Items a bank may have refused per minute, whatever the reason. */
  readonly bankRefusalsPerMinute: number;
}

export interface VerificationDependencies {
  readonly consents: ConsentService;
  readonly consentStore: ConsentStore;
  /** Which datasets of a subject open objections dispute. */
  readonly disputes: Pick<ReportStore, 'disputedDatasets'>;
  readonly questions: QuestionCatalog;
  readonly records: RecordReader;
  readonly audit: AuditLog;
  readonly signer: GatewaySigner;
  readonly limits: VerificationLimits;
  readonly now?: () => Date;
}

export interface VerificationService {
  verify(principal: Principal, request: VerificationRequest): Promise<VerificationResult>;
}

interface RememberedAnswer {
  readonly question: AnsweredQuestion;
  readonly until: number;
}

/** Bounds memory: the reuse cache is cleared when it grows past this (answers are then recomputed and recounted). */
const MAX_REMEMBERED = 200_000;

/** An answer given earlier in the reuse window, marked disputed as things stand now. */
function repeatedAnswer(earlier: AnsweredQuestion, disputed: ReadonlySet<string>, questions: QuestionCatalog): AnsweredQuestion {
  const { disputed: _earlier, ...answer } = earlier;
  return { ...answer, repeated: true, ...disputedMark(questions.get(answer.id), disputed) };
}

export function createVerificationService(deps: VerificationDependencies): VerificationService {
  const now = deps.now ?? (() => new Date());
  const bankLimiter = new RateLimiterMemory({ points: deps.limits.bankPerSecond, duration: 1 });
  const consentLimiter = new RateLimiterMemory({ points: deps.limits.consentPerMinute, duration: 60 });
  const refusalLimiter = new RateLimiterMemory({ points: deps.limits.bankRefusalsPerMinute, duration: 60 });
  const remembered = new Map<string, RememberedAnswer>();
  // Use counts of all items in one round of I/O share a durable transaction; each item waits for it (and holds its
  // consent's lock meanwhile), so a budget is never overspent and nothing is answered before its use is counted.
  const useConsent = createGroupCommit((uses: readonly ConsentUse[]) => deps.consentStore.useConsents(uses)).add;

  async function consume(limiter: RateLimiterMemory, key: string, points: number): Promise<void> {
    try {
      await limiter.consume(key, points);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      throw new GatewayError('rate_limited', `too many ${limiter === refusalLimiter ? 'refused items' : 'questions'}; retry later`, {
        details: { retry_after: Math.ceil(rejection.msBeforeNext / 1000) },
      });
    }
  }

  /** The consent if it is this bank's and about this subject; the same undefined for every other case. */
  async function consentFor(principal: Principal, item: VerificationItemRequest): Promise<ConsentRecord | undefined> {
    const consent = await deps.consentStore.getConsent(item.consent_id);
    return consent && consent.bankId === principal.participantId && consent.uscc === item.subject.uscc ? consent : undefined;
  }

  /** An item under a consent of this bank about this subject, answered or refused inside the consent's lock. */
  async function answerItem(principal: Principal, request: VerificationRequest, item: VerificationItemRequest, refusedItems: { count: number }): Promise<ItemOutcome> {
    const base = { subject: { uscc: item.subject.uscc }, consent_id: item.consent_id };
    const refuse = async (code: Exclude<RefusalCode, 'consent_missing'>, purpose: string): Promise<ItemOutcome> => {
      refusedItems.count++;
      const appended = await deps.audit.append({
        kind: 'verification.refused',
        actor: principal.participantId,
        // Under a consent of this bank about this subject: the enterprise sees that its consent was used this way.
        subject: item.subject.uscc,
        consentId: item.consent_id,
        details: {
          code, questions: [...item.questions], loan_reference: request.loan_reference, officer: request.officer,
          purpose, request_sha256: principal.requestSha256,
        },
      });
      return { ...base, status: 'refused', code, audit_index: appended.index };
    };

    // Read again inside the lock: the state may have changed while waiting; the bank and the subject never do.
    const consent = await deps.consentStore.getConsent(item.consent_id) as ConsentRecord;
    const nowSeconds = Math.floor(now().getTime() / 1000);
    const refusal = await consentRefusal(consent, {
      principal, uscc: item.subject.uscc, questions: item.questions, nowSeconds, stateOf: deps.consents.stateOf, catalog: deps.questions,
    });
    // consent_missing was ruled out before the lock (consentFor): the bank and the subject of a consent never change.
    if (refusal) return refuse(refusal === 'consent_missing' ? 'consent_not_active' : refusal, consent.purpose);

    const asOf = todayInShanghai(now());
    const fresh = item.questions.filter((id) => {
      const kept = remembered.get(`${consent.consentId}\u0000${id}`);
      return !kept || kept.until <= nowSeconds;
    });
    const questions = fresh.map((id) => deps.questions.get(id));
    const records = await deps.records.forQuestions(consent.uscc, questions);
    // Read now, also for a repeated answer: an objection raised since the answer was first given marks it too.
    const disputed = new Set(await deps.disputes.disputedDatasets(consent.uscc));
    const answers = new Map(answerQuestions(questions, records, asOf, disputed).map((given) => [given.id, { ...given, repeated: false }]));
    const answered: AnsweredQuestion[] = item.questions.map((id) => answers.get(id) ?? repeatedAnswer(
      (remembered.get(`${consent.consentId}\u0000${id}`) as RememberedAnswer).question, disputed, deps.questions));

    // Fresh answers count against the consent's budget; a consent whose budget cannot cover them is exhausted.
    if (fresh.length > 0 && !(await useConsent({ consentId: consent.consentId, count: fresh.length, at: now().toISOString() }))) {
      return refuse('consent_not_active', consent.purpose);
    }
    const appended = await deps.audit.append({
      kind: 'verification.answered',
      actor: principal.participantId,
      subject: consent.uscc,
      consentId: consent.consentId,
      details: {
        purpose: consent.purpose, loan_reference: request.loan_reference, officer: request.officer,
        questions: answered.map((question) => ({
          id: question.id, version: question.version, definition_hash: question.definition_hash, answer: question.answer,
          ...(question.data_as_of ? { data_as_of: question.data_as_of } : {}), stale: question.stale, repeated: question.repeated,
          ...(question.disputed ? { disputed: true } : {}),
        })),
        request_sha256: principal.requestSha256,
      },
    });
    if (remembered.size > MAX_REMEMBERED) remembered.clear();
    for (const question of answers.values()) {
      remembered.set(`${consent.consentId}\u0000${question.id}`, { question, until: nowSeconds + deps.limits.reuseSeconds });
    }
    return { ...base, status: 'answered', purpose: consent.purpose, questions: answered, audit_index: appended.index };
  }

  /** One entry for all the request's items that name no consent of this bank about their subject; about no one. */
  async function recordUnmatched(principal: Principal, request: VerificationRequest, unmatched: readonly VerificationItemRequest[]): Promise<number> {
    const appended = await deps.audit.append({
      kind: 'verification.unmatched',
      actor: principal.participantId,
      details: {
        code: 'consent_missing', loan_reference: request.loan_reference, officer: request.officer,
        items: unmatched.map((item) => ({ uscc: item.subject.uscc, consent_id: item.consent_id, questions: item.questions.length })),
        request_sha256: principal.requestSha256,
      },
    });
    return appended.index;
  }

  return {
    async verify(principal, request) {
      const questionCount = request.items.reduce((sum, item) => sum + item.questions.length, 0);
      await consume(bankLimiter, principal.participantId, questionCount);
      const consents = await Promise.all(request.items.map((item) => consentFor(principal, item)));
      const unmatched = request.items.filter((_, index) => consents[index] === undefined);
      // Refusals cost the bank before anything is recorded: a request that would overspend is refused whole.
      if (unmatched.length > 0) await consume(refusalLimiter, principal.participantId, unmatched.length);
      const perConsent = new Map<string, number>();
      request.items.forEach((item, index) => {
        if (consents[index]) perConsent.set(item.consent_id, (perConsent.get(item.consent_id) ?? 0) + item.questions.length);
      });
      // Keyed by bank and consent: a bank naming another bank's consent spends only its own points.
      for (const [consentId, points] of perConsent) await consume(consentLimiter, `${principal.participantId}\u0000${consentId}`, points);

      const unmatchedIndex = unmatched.length > 0 ? recordUnmatched(principal, request, unmatched) : undefined;
      const refusedItems = { count: 0 };
      const items = await Promise.all(request.items.map(async (item, index): Promise<ItemOutcome> => {
        if (!consents[index]) {
          return { subject: { uscc: item.subject.uscc }, consent_id: item.consent_id, status: 'refused', code: 'consent_missing', audit_index: await (unmatchedIndex as Promise<number>) };
        }
        return deps.consents.exclusive(item.consent_id, () => answerItem(principal, request, item, refusedItems));
      }));
      // Refusals under the bank's own consents are found only under their locks: they count against the next request.
      if (refusedItems.count > 0) await refusalLimiter.penalty(principal.participantId, refusedItems.count);
      const answer = await deps.signer.sign(SIGNED_TYPES.verification, principal.participantId, {
        request_sha256: principal.requestSha256,
        loan_reference: request.loan_reference,
        officer: request.officer,
        items,
      });
      const signed = await deps.audit.append({
        kind: 'verification.signed',
        actor: 'gateway',
        details: {
          bank: principal.participantId, answer_sha256: sha256Hex(answer), item_audit_indexes: items.map((item) => item.audit_index),
          request_sha256: principal.requestSha256,
        },
      });
      return { answer, items, answerAuditIndex: signed.index };
    },
  };
}
