/**
 * Scores: a bank has its approved scorecard evaluated on subjects that consented to it, and gets one JWS signed by
 * the gateway with, per item, the grade, the score only if the scorecard's approval releases it, the scorecard's id,
 * version and hash, and at most the allowed number of reason codes — never an answer or a record value.
 *
 * Batching, consent checks, locks, budgets, rate limits and audit entries follow verifications
 * (gateway/verification/verifications.ts): an item naming no consent of this bank about its subject is refused
 * consent_missing and recorded with the request's others in one `score.unmatched` entry about no one; every other
 * item is decided under its consent's lock, counts one use of the consent, and has its own `score.answered` or
 * `score.refused` entry; then the whole answer is signed and a `score.signed` entry holds its hash. A score reads as
 * many questions as the scorecard has features, and counts that many against the bank's rate of questions.
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
import type { ConsentRecord, ConsentStore, ConsentUse, ReportStore, ScorecardStore } from '../store/index.js';
import { consentRefusal } from '../verification/answers.js';
import type { RefusalCode } from '../verification/answers.js';
import type { VerificationLimits } from '../verification/index.js';
import { allowsScoring, scorecardRef } from './scorecard.js';
import type { ReviewRules } from './scorecard.js';
import { reasonLimit, scoreSubject, usableScorecard } from './subject.js';
import type { UsableScorecard } from './subject.js';

export interface ScoreItemRequest {
  readonly subject: { readonly uscc: string };
  readonly consent_id: string;
  readonly scorecard: { readonly id: string; readonly version: number };
}

export interface ScoreRequest {
  readonly loan_reference: string;
  readonly officer: string;
  readonly items: readonly ScoreItemRequest[];
}

/** Why an item is not scored; scorecard_unavailable whether it does not exist, is another bank's or is not approved. */
export type ScoreRefusalCode = RefusalCode | 'scorecard_unavailable';

export interface ScorecardNamed {
  readonly id: string;
  readonly version: number;
  readonly sha256: string;
}

export type ScoreOutcome =
  | { readonly subject: { readonly uscc: string }; readonly consent_id: string; readonly status: 'scored'; readonly purpose: string;
      readonly scorecard: ScorecardNamed; readonly grade: string; readonly score?: number; readonly reason_codes: readonly string[];
      readonly disputed?: true; readonly audit_index: number }
  | { readonly subject: { readonly uscc: string }; readonly consent_id: string; readonly status: 'refused'; readonly code: ScoreRefusalCode;
      readonly audit_index: number };

export interface ScoreResult {
  readonly answer: string;
  readonly items: readonly ScoreOutcome[];
  readonly answerAuditIndex: number;
}

export interface ScoreDependencies {
  readonly consents: ConsentService;
  readonly consentStore: ConsentStore;
  readonly scorecards: ScorecardStore;
  readonly disputes: Pick<ReportStore, 'disputedDatasets'>;
  readonly questions: QuestionCatalog;
  readonly rules: ReviewRules;
  readonly records: RecordReader;
  readonly audit: AuditLog;
  readonly signer: GatewaySigner;
  readonly limits: Omit<VerificationLimits, 'reuseSeconds'>;
  readonly now?: () => Date;
}

export interface ScoreService {
  score(principal: Principal, request: ScoreRequest): Promise<ScoreResult>;
}

export function createScoreService(deps: ScoreDependencies): ScoreService {
  const now = deps.now ?? (() => new Date());
  const bankLimiter = new RateLimiterMemory({ points: deps.limits.bankPerSecond, duration: 1 });
  const consentLimiter = new RateLimiterMemory({ points: deps.limits.consentPerMinute, duration: 60 });
  const refusalLimiter = new RateLimiterMemory({ points: deps.limits.bankRefusalsPerMinute, duration: 60 });
  const useConsent = createGroupCommit((uses: readonly ConsentUse[]) => deps.consentStore.useConsents(uses)).add;
  // A consent names scorecards for the purposes the review rules let score; the scorecard's own purposes come next.
  const scoringCatalog = { allowsPurpose: (_ref: string, purpose: string) => allowsScoring(deps.rules, purpose) };

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

  async function consentFor(principal: Principal, item: ScoreItemRequest): Promise<ConsentRecord | undefined> {
    const consent = await deps.consentStore.getConsent(item.consent_id);
    return consent && consent.bankId === principal.participantId && consent.uscc === item.subject.uscc ? consent : undefined;
  }

  async function scoreItem(principal: Principal, request: ScoreRequest, item: ScoreItemRequest, usable: UsableScorecard | undefined,
    refusedItems: { count: number }): Promise<ScoreOutcome> {
    const base = { subject: { uscc: item.subject.uscc }, consent_id: item.consent_id };
    const named = { scorecard: item.scorecard.id, version: item.scorecard.version };
    const refuse = async (code: Exclude<ScoreRefusalCode, 'consent_missing'>, purpose: string): Promise<ScoreOutcome> => {
      refusedItems.count++;
      const appended = await deps.audit.append({
        kind: 'score.refused', actor: principal.participantId, subject: item.subject.uscc, consentId: item.consent_id,
        details: { code, ...named, loan_reference: request.loan_reference, officer: request.officer, purpose, request_sha256: principal.requestSha256 },
      });
      return { ...base, status: 'refused', code, audit_index: appended.index };
    };

    // Read again inside the lock: the state may have changed while waiting; the bank and the subject never do.
    const consent = await deps.consentStore.getConsent(item.consent_id) as ConsentRecord;
    const refusal = await consentRefusal(consent, {
      principal, uscc: item.subject.uscc, questions: [scorecardRef(item.scorecard.id, item.scorecard.version)],
      nowSeconds: Math.floor(now().getTime() / 1000), stateOf: deps.consents.stateOf, catalog: scoringCatalog,
    });
    if (refusal) return refuse(refusal === 'consent_missing' ? 'consent_not_active' : refusal, consent.purpose);
    if (!usable) return refuse('scorecard_unavailable', consent.purpose);
    if (!(usable.document.purposes as readonly string[]).includes(consent.purpose)) return refuse('purpose_not_allowed', consent.purpose);

    const disputed = new Set(await deps.disputes.disputedDatasets(consent.uscc));
    const result = await scoreSubject(usable.document, deps, consent.uscc, todayInShanghai(now()), disputed, reasonLimit(usable.document, deps.rules));
    if (!(await useConsent({ consentId: consent.consentId, count: 1, at: now().toISOString() }))) return refuse('consent_not_active', consent.purpose);
    const scorecard = { id: usable.record.scorecardId, version: usable.record.version, sha256: usable.record.sha256 };
    const released: { score?: number } = usable.record.releaseScore ? { score: result.points } : {};
    const appended = await deps.audit.append({
      kind: 'score.answered', actor: principal.participantId, subject: consent.uscc, consentId: consent.consentId,
      details: {
        purpose: consent.purpose, loan_reference: request.loan_reference, officer: request.officer, ...named, sha256: scorecard.sha256,
        grade: result.grade, ...(usable.record.releaseScore ? { score: result.points } : {}), reason_codes: [...result.reasons], ...(result.disputed ? { disputed: true } : {}),
        request_sha256: principal.requestSha256,
      },
    });
    return {
      ...base, status: 'scored', purpose: consent.purpose, scorecard, grade: result.grade, ...released, reason_codes: result.reasons,
      ...(result.disputed ? { disputed: true as const } : {}), audit_index: appended.index,
    };
  }

  async function recordUnmatched(principal: Principal, request: ScoreRequest, unmatched: readonly ScoreItemRequest[]): Promise<number> {
    const appended = await deps.audit.append({
      kind: 'score.unmatched', actor: principal.participantId,
      details: {
        code: 'consent_missing', loan_reference: request.loan_reference, officer: request.officer,
        items: unmatched.map((item) => ({ uscc: item.subject.uscc, consent_id: item.consent_id, scorecard: item.scorecard.id, version: item.scorecard.version })),
        request_sha256: principal.requestSha256,
      },
    });
    return appended.index;
  }

  return {
    async score(principal, request) {
      const usable = new Map<string, UsableScorecard | undefined>();
      for (const { scorecard } of request.items) {
        const ref = scorecardRef(scorecard.id, scorecard.version);
        if (!usable.has(ref)) usable.set(ref, await usableScorecard(deps.scorecards, deps.questions, principal.participantId, scorecard.id, scorecard.version));
      }
      const usableFor = (item: ScoreItemRequest) => usable.get(scorecardRef(item.scorecard.id, item.scorecard.version));
      const questionsOf = (item: ScoreItemRequest) => usableFor(item)?.document.features.length ?? 1;
      await consume(bankLimiter, principal.participantId, request.items.reduce((sum, item) => sum + questionsOf(item), 0));
      const consents = await Promise.all(request.items.map((item) => consentFor(principal, item)));
      const unmatched = request.items.filter((_, index) => consents[index] === undefined);
      if (unmatched.length > 0) await consume(refusalLimiter, principal.participantId, unmatched.length);
      const perConsent = new Map<string, number>();
      request.items.forEach((item, index) => {
        if (consents[index]) perConsent.set(item.consent_id, (perConsent.get(item.consent_id) ?? 0) + questionsOf(item));
      });
      for (const [consentId, points] of perConsent) await consume(consentLimiter, `${principal.participantId}\u0000${consentId}`, points);

      const unmatchedIndex = unmatched.length > 0 ? recordUnmatched(principal, request, unmatched) : undefined;
      const refusedItems = { count: 0 };
      const items = await Promise.all(request.items.map(async (item, index): Promise<ScoreOutcome> => {
        if (!consents[index]) {
          return { subject: { uscc: item.subject.uscc }, consent_id: item.consent_id, status: 'refused', code: 'consent_missing', audit_index: await (unmatchedIndex as Promise<number>) };
        }
        return deps.consents.exclusive(item.consent_id, () => scoreItem(principal, request, item, usableFor(item), refusedItems));
      }));
      if (refusedItems.count > 0) await refusalLimiter.penalty(principal.participantId, refusedItems.count);
      const answer = await deps.signer.sign(SIGNED_TYPES.score, principal.participantId, {
        request_sha256: principal.requestSha256, loan_reference: request.loan_reference, officer: request.officer, items,
      });
      const signed = await deps.audit.append({
        kind: 'score.signed', actor: 'gateway',
        details: {
          bank: principal.participantId, answer_sha256: sha256Hex(answer), item_audit_indexes: items.map((item) => item.audit_index),
          request_sha256: principal.requestSha256,
        },
      });
      return { answer, items, answerAuditIndex: signed.index };
    },
  };
}
