/**
 * Policy push (政策直达). The gateway evaluates every support policy inside, over the same answers a bank could be
 * given: an enterprise reads its own eligibility, signed — for itself, or for a bank it names, which is how it passes
 * its eligibility on (its signed request is its consent to that one disclosure, audited about it); the department
 * that owns a policy reads only counts over the registered enterprises, with small cells suppressed, so no count
 * singles an enterprise out.
 */
import type { AuditLog } from '../audit/index.js';
import { GatewayError } from '../errors/index.js';
import type { ParticipantRegistry, Principal } from '../identity/index.js';
import { todayInShanghai } from '../ingest/index.js';
import type { Answer, QuestionCatalog } from '../policies/index.js';
import type { RecordReader } from '../records/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import { answerQuestions } from '../verification/answers.js';
import { eligibilityOf } from './eligibility.js';
import type { Eligibility } from './eligibility.js';
import type { SupportPolicies, SupportPolicy } from './policies.js';

export interface EligibilityResult {
  readonly policy: string;
  readonly version: number;
  readonly definition_hash: string;
  readonly eligibility: Eligibility;
}

/** A count, or null when it is suppressed (below the minimum cell size, or the one cell that would give it away). */
export type SuppressedCounts = Readonly<Record<Eligibility, number | null>>;

export interface SupportService {
  readonly policies: SupportPolicies;
  /** The enterprise's eligibility for every policy, signed for `bank` when it names one, else for itself. */
  eligibility(principal: Principal, bank: string | undefined): Promise<{ token: string; results: EligibilityResult[]; auditIndex: number }>;
  /** Counts over the registered enterprises, for a participant the policy names as an owner. */
  counts(principal: Principal, policyId: string): Promise<{ token: string; counts: SuppressedCounts; minCell: number; auditIndex: number }>;
}

export interface SupportDependencies {
  readonly policies: SupportPolicies;
  readonly questions: QuestionCatalog;
  readonly records: RecordReader;
  readonly participants: ParticipantRegistry;
  readonly audit: AuditLog;
  readonly signer: GatewaySigner;
  /** GATEWAY_SUPPORT_MIN_CELL: counts below it are suppressed. */
  readonly minCell: number;
  readonly now?: () => Date;
}

/**
 * Suppresses cells below `minCell`, and when exactly one is, the next smallest too: otherwise it would follow from
 * the others and the number of registered enterprises, which is no secret.
 */
export function suppress(counts: Readonly<Record<Eligibility, number>>, minCell: number): SuppressedCounts {
  const cells = Object.entries(counts) as [Eligibility, number][];
  const hidden = new Set(cells.filter(([, count]) => count > 0 && count < minCell).map(([cell]) => cell));
  if (hidden.size === 1) {
    const [next] = cells.filter(([cell]) => !hidden.has(cell)).sort((a, b) => a[1] - b[1]);
    if (next) hidden.add(next[0]);
  }
  return Object.fromEntries(cells.map(([cell, count]) => [cell, hidden.has(cell) ? null : count])) as SuppressedCounts;
}

export function createSupportService(deps: SupportDependencies): SupportService {
  const now = deps.now ?? (() => new Date());

  // The questions every evaluation reads: fixed once the policies are loaded.
  const questions = [...new Set(deps.policies.policies.flatMap((policy) => policy.conditions.map((condition) => condition.question)))]
    .map((id) => deps.questions.get(id));

  async function resultsFor(uscc: string, asOf: string): Promise<EligibilityResult[]> {
    const records = await deps.records.forQuestions(uscc, questions);
    const answers = new Map<string, Answer>(answerQuestions(questions, records, asOf, new Set()).map((given) => [given.id, given.answer]));
    return deps.policies.policies.map((policy: SupportPolicy) => ({
      policy: policy.id, version: policy.version, definition_hash: policy.definitionHash, eligibility: eligibilityOf(policy, answers),
    }));
  }

  return {
    policies: deps.policies,

    async eligibility(principal, bank) {
      const uscc = principal.uscc as string;
      if (bank !== undefined) {
        const recipient = await deps.participants.get(bank);
        if (recipient?.role !== 'bank' || recipient.status !== 'active') throw new GatewayError('invalid_argument', `"${bank.slice(0, 64)}" is not an active bank`);
      }
      const asOf = todayInShanghai(now());
      const results = await resultsFor(uscc, asOf);
      const appended = await deps.audit.append({
        kind: 'support.eligibility_given', actor: principal.participantId, subject: uscc,
        details: {
          ...(bank === undefined ? {} : { bank }), as_of: asOf,
          policies: results.map((result) => ({ ...result })), request_sha256: principal.requestSha256,
        },
      });
      const token = await deps.signer.sign(SIGNED_TYPES.supportEligibility, bank ?? principal.participantId, {
        sub: uscc, as_of: asOf, policies: results, audit_index: appended.index,
      });
      return { token, results, auditIndex: appended.index };
    },

    async counts(principal, policyId) {
      const policy = deps.policies.get(policyId);
      if (!policy.owners.includes(principal.participantId)) {
        throw new GatewayError('support_policy_not_owned', `support policy "${policy.id}" is not owned by ${principal.participantId}`);
      }
      const asOf = todayInShanghai(now());
      const tally: Record<Eligibility, number> = { eligible: 0, not_eligible: 0, unknown: 0 };
      const enterprises = (await deps.participants.list()).filter((participant) => participant.role === 'enterprise' && participant.status !== 'revoked');
      for (const enterprise of enterprises) {
        const result = (await resultsFor(enterprise.uscc as string, asOf)).find((found) => found.policy === policy.id) as EligibilityResult;
        tally[result.eligibility]++;
      }
      const counts = suppress(tally, deps.minCell);
      const appended = await deps.audit.append({
        kind: 'support.counts_read', actor: principal.participantId,
        details: { policy: policy.id, version: policy.version, as_of: asOf, request_sha256: principal.requestSha256 },
      });
      const token = await deps.signer.sign(SIGNED_TYPES.supportCounts, principal.participantId, {
        policy: policy.id, version: policy.version, definition_hash: policy.definitionHash, as_of: asOf, counts, min_cell: deps.minCell,
        audit_index: appended.index,
      });
      return { token, counts, minCell: deps.minCell, auditIndex: appended.index };
    },
  };
}
