/**
 * Scorecards as banks submit them and the operator (or the review rules) decides on them (docs/modelling.md). A
 * submitted scorecard is reviewed at once (review.ts): one with any finding is refused, audited, and not kept; one
 * without is kept pending, inert, until approved — by a rule of policies/scorecard-review.json naming its bank, or by
 * the operator (`gateway scorecards approve`). Approval reviews it again, since scorecards approved meanwhile may now
 * share its skeleton. Every step is in the audit log with the document's hash.
 */
import type { AuditLog } from '../audit/index.js';
import { GatewayError } from '../errors/index.js';
import type { Principal } from '../identity/index.js';
import type { QuestionCatalog } from '../policies/index.js';
import type { ScorecardRecord, ScorecardStore } from '../store/index.js';
import { reviewScorecard } from './review.js';
import type { Finding } from './review.js';
import { hashScorecard, scorecardRef, skeletonHash } from './scorecard.js';
import type { ReviewRules, ScorecardDocument } from './scorecard.js';

export interface ScorecardView {
  readonly scorecard: { readonly id: string; readonly version: number };
  /** What a consent names to allow scoring with it. */
  readonly consent_name: string;
  readonly bank: string;
  readonly sha256: string;
  readonly state: ScorecardRecord['state'];
  readonly release_score: boolean;
  readonly submitted_at: string;
  readonly decided_by: string | null;
  readonly decided_at: string | null;
  readonly audit_index: number;
  readonly document: ScorecardDocument;
}

export interface ScorecardDependencies {
  readonly store: ScorecardStore;
  readonly questions: QuestionCatalog;
  readonly rules: ReviewRules;
  readonly audit: AuditLog;
  readonly now?: () => Date;
}

export interface ScorecardService {
  /** Reviews and keeps a bank's scorecard; throws scorecard_refused with the findings. */
  submit(principal: Principal, document: ScorecardDocument): Promise<ScorecardView>;
  /** The owning bank sees its scorecards; an enterprise sees approved ones (what it would consent to). */
  get(principal: Principal, id: string, version: number): Promise<ScorecardView>;
  /** The operator's decision; approval may release the score beside the grade. */
  decide(id: string, version: number, decision: { approve: boolean; releaseScore: boolean }): Promise<ScorecardView>;
  list(): Promise<ScorecardView[]>;
}

export function viewOf(record: ScorecardRecord): ScorecardView {
  return {
    scorecard: { id: record.scorecardId, version: record.version }, consent_name: scorecardRef(record.scorecardId, record.version),
    bank: record.bankId, sha256: record.sha256, state: record.state, release_score: record.releaseScore, submitted_at: record.submittedAt,
    decided_by: record.decidedBy ?? null, decided_at: record.decidedAt ?? null, audit_index: record.decisionAuditIndex ?? record.submitAuditIndex,
    document: JSON.parse(record.document) as ScorecardDocument,
  };
}

const findingsDetail = (findings: readonly Finding[]) => findings.map((finding) => ({ ...finding }));

export function createScorecardService(deps: ScorecardDependencies): ScorecardService {
  const now = deps.now ?? (() => new Date());

  async function review(document: ScorecardDocument, sha256: string): Promise<Finding[]> {
    const same = await deps.store.approvedWithSkeleton(skeletonHash(document));
    return reviewScorecard(document, deps.questions, deps.rules, same.map((other) => ({ sha256: other.sha256, name: scorecardRef(other.scorecardId, other.version) })), sha256);
  }

  async function decide(record: ScorecardRecord, approve: boolean, releaseScore: boolean, by: 'operator' | 'review_rules'): Promise<ScorecardView> {
    if (record.state !== 'pending') throw new GatewayError('scorecard_not_pending', `scorecard ${record.scorecardId} v${record.version} is ${record.state}`);
    if (approve) {
      const findings = await review(JSON.parse(record.document) as ScorecardDocument, record.sha256);
      if (findings.length > 0) {
        throw new GatewayError('scorecard_refused', findings.map((finding) => finding.detail).join('; '), { details: { findings: findingsDetail(findings) } });
      }
    }
    const at = now().toISOString();
    const appended = await deps.audit.append({
      kind: approve ? 'scorecard.approved' : 'scorecard.rejected',
      actor: by === 'operator' ? 'operator' : 'gateway',
      details: {
        bank: record.bankId, scorecard: record.scorecardId, version: record.version, sha256: record.sha256, by,
        ...(approve ? { release_score: releaseScore } : {}),
      },
    });
    const decided = await deps.store.decideScorecard(record.scorecardId, record.version, {
      state: approve ? 'approved' : 'rejected', releaseScore: approve && releaseScore, by, at, auditIndex: appended.index,
    });
    if (!decided) throw new GatewayError('scorecard_not_pending', `scorecard ${record.scorecardId} v${record.version} was decided meanwhile`);
    return viewOf(await deps.store.getScorecard(record.scorecardId, record.version) as ScorecardRecord);
  }

  async function stored(id: string, version: number): Promise<ScorecardRecord> {
    const record = await deps.store.getScorecard(id, version);
    if (!record) throw new GatewayError('not_found', `no scorecard ${id} v${version}`);
    return record;
  }

  return {
    async submit(principal, document) {
      if (await deps.store.getScorecard(document.id, document.version)) {
        throw new GatewayError('scorecard_exists', `scorecard ${document.id} v${document.version} already exists; submit a new version`);
      }
      const sha256 = hashScorecard(document);
      const findings = await review(document, sha256);
      const details = { bank: principal.participantId, scorecard: document.id, version: document.version, sha256, request_sha256: principal.requestSha256 };
      if (findings.length > 0) {
        await deps.audit.append({ kind: 'scorecard.refused', actor: principal.participantId, details: { ...details, findings: findings.map((finding) => finding.code) } });
        throw new GatewayError('scorecard_refused', findings.map((finding) => finding.detail).join('; '), { details: { findings: findingsDetail(findings) } });
      }
      const appended = await deps.audit.append({ kind: 'scorecard.submitted', actor: principal.participantId, details });
      await deps.store.addScorecard({
        scorecardId: document.id, version: document.version, bankId: principal.participantId, document: JSON.stringify(document), sha256,
        skeletonSha256: skeletonHash(document),
        questionHashes: Object.fromEntries(document.features.map((feature) => [feature.question, deps.questions.definitionHash(feature.question)])),
        submittedAt: now().toISOString(), submitAuditIndex: appended.index,
      });
      const record = await stored(document.id, document.version);
      const rule = deps.rules.auto_approve.find((candidate) => candidate.banks.includes(principal.participantId));
      return rule ? decide(record, true, rule.release_score, 'review_rules') : viewOf(record);
    },

    async get(principal, id, version) {
      const record = await deps.store.getScorecard(id, version);
      // The same not_found whether it does not exist or is another bank's (or, for an enterprise, not approved).
      const visible = record && (record.bankId === principal.participantId || (principal.role === 'enterprise' && record.state === 'approved'));
      if (!visible) throw new GatewayError('not_found', `no scorecard ${id} v${version}`);
      return viewOf(record);
    },

    decide: async (id, version, decision) => decide(await stored(id, version), decision.approve, decision.releaseScore, 'operator'),

    list: async () => (await deps.store.listScorecards('all')).map(viewOf),
  };
}
