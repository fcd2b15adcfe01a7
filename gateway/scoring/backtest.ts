/**
 * Back-testing without leaking (docs/privacy.md, "Back-tests"): an approved scorecard evaluated over every enterprise
 * with an active consent naming it, addressed to the asking bank, for one purpose; released only as aggregates — the
 * grade distribution and, over the enterprises the bank labelled, ROC AUC and KS rounded to two decimals — and only
 * when the cohort is large enough, each outcome is labelled often enough, and the cohort and labels differ from each
 * earlier back-test of the scorecard either not at all or by enough enterprises that the difference of two results
 * says nothing about one; and at most a few times a day per scorecard.
 */
import type { AuditLog } from '../audit/index.js';
import type { ConsentService } from '../consent/index.js';
import { GatewayError } from '../errors/index.js';
import type { Principal } from '../identity/index.js';
import { todayInShanghai } from '../ingest/index.js';
import type { Purpose, QuestionCatalog } from '../policies/index.js';
import type { RecordReader } from '../records/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import type { BacktestRecord, ConsentStore, ReportStore, ScorecardStore } from '../store/index.js';
import { scorecardRef } from './scorecard.js';
import type { ReviewRules } from './scorecard.js';
import { scoreSubject, usableScorecard } from './subject.js';

export interface BacktestRequest {
  readonly purpose: Purpose;
  /** The bank's outcomes: 1 for a bad outcome (default, write-off), 0 for a good one. */
  readonly labels?: ReadonlyArray<{ readonly uscc: string; readonly outcome: 0 | 1 }>;
}

export interface BacktestResult {
  /** The compact JWS (typ gateway-backtest+jwt) of the aggregates. */
  readonly answer: string;
  readonly aggregates: Readonly<Record<string, unknown>>;
  readonly auditIndex: number;
}

export interface BacktestDependencies {
  readonly consents: Pick<ConsentService, 'stateOf'>;
  readonly consentStore: ConsentStore;
  readonly scorecards: ScorecardStore;
  readonly disputes: Pick<ReportStore, 'disputedDatasets'>;
  readonly questions: QuestionCatalog;
  readonly records: RecordReader;
  readonly rules: ReviewRules;
  readonly audit: AuditLog;
  readonly signer: GatewaySigner;
  readonly now?: () => Date;
}

export interface BacktestService {
  backtest(principal: Principal, id: string, version: number, request: BacktestRequest): Promise<BacktestResult>;
}

const PAGE = 500;
const DAY_MS = 86_400_000;

const round2 = (value: number) => Math.round(value * 100) / 100;

/**
 * ROC AUC of points against bad outcomes (the Mann–Whitney statistic: the chance that a good subject scores above a
 * bad one, ties counted half), and the Kolmogorov–Smirnov statistic (the largest gap between the cumulative
 * distributions of the points of bad and good subjects). One sort, then one pass over the distinct points: a cohort
 * of tens of thousands is not compared pair by pair.
 */
export function discrimination(labelled: ReadonlyArray<{ points: number; bad: boolean }>): { rocAuc: number; ks: number } {
  const sorted = [...labelled].sort((a, b) => a.points - b.points);
  const badCount = sorted.filter((entry) => entry.bad).length;
  const goodCount = sorted.length - badCount;
  let badBelow = 0;
  let goodBelow = 0;
  let wins = 0;
  let ks = 0;
  for (let start = 0; start < sorted.length;) {
    let end = start;
    let bad = 0;
    while (end < sorted.length && (sorted[end] as { points: number }).points === (sorted[start] as { points: number }).points) {
      if ((sorted[end] as { bad: boolean }).bad) bad++;
      end++;
    }
    const good = end - start - bad;
    // Good subjects at these points beat every bad one below and tie with the bad ones here.
    wins += good * (badBelow + bad / 2);
    badBelow += bad;
    goodBelow += good;
    ks = Math.max(ks, Math.abs(badBelow / badCount - goodBelow / goodCount));
    start = end;
  }
  return { rocAuc: wins / (goodCount * badCount), ks };
}

/** Enterprises in one cohort and not the other, or in both with different labels. */
function difference(a: Readonly<Record<string, 0 | 1 | null>>, b: Readonly<Record<string, 0 | 1 | null>>): number {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => !(key in a) || !(key in b) || a[key] !== b[key]).length;
}

export function createBacktestService(deps: BacktestDependencies): BacktestService {
  const now = deps.now ?? (() => new Date());

  /** USCC → consent id of every active consent to this bank naming the scorecard for the purpose. */
  async function cohortOf(bankId: string, ref: string, purpose: string): Promise<Map<string, string>> {
    const cohort = new Map<string, string>();
    const nowSeconds = Math.floor(now().getTime() / 1000);
    for (let after = 0; ;) {
      const page = await deps.consentStore.listConsents({ bankId }, after, PAGE);
      for (const consent of page) {
        if (consent.purpose === purpose && consent.questions.includes(ref) && (await deps.consents.stateOf(consent)) === 'active'
          && consent.notBefore <= nowSeconds && !cohort.has(consent.uscc)) cohort.set(consent.uscc, consent.consentId);
      }
      if (page.length < PAGE) return cohort;
      after = (page.at(-1) as { seq: number }).seq;
    }
  }

  return {
    async backtest(principal, id, version, request) {
      const usable = await usableScorecard(deps.scorecards, deps.questions, principal.participantId, id, version);
      if (!usable) throw new GatewayError('not_found', `no approved scorecard ${id} v${version} of this bank`);
      if (!(usable.document.purposes as readonly string[]).includes(request.purpose)) {
        throw new GatewayError('purpose_not_allowed', `scorecard ${id} v${version} is not for ${request.purpose}`);
      }
      const { backtest: limits } = deps.rules;
      const earlier = await deps.scorecards.backtestsOf(id, version);
      // A cap per scorecard and day: each back-test evaluates the whole cohort, and the same cohort asked often would
      // track its grades as the data changes.
      const dayAgo = now().getTime() - DAY_MS;
      const recent = earlier.filter((backtest) => Date.parse(backtest.at) > dayAgo);
      if (recent.length >= limits.max_per_day) {
        const retryAfter = Math.ceil((Date.parse((recent[0] as BacktestRecord).at) - dayAgo) / 1000);
        throw new GatewayError('rate_limited', `at most ${limits.max_per_day} back-tests of a scorecard a day; retry later`, { details: { retry_after: Math.max(1, retryAfter) } });
      }
      const cohort = await cohortOf(principal.participantId, scorecardRef(id, version), request.purpose);
      if (cohort.size < limits.min_cohort) {
        throw new GatewayError('cohort_too_small', `a back-test needs at least ${limits.min_cohort} consenting enterprises`);
      }
      const labels = new Map((request.labels ?? []).map((label) => [label.uscc, label.outcome]));
      const members: Record<string, 0 | 1 | null> = Object.fromEntries([...cohort.keys()].sort().map((uscc) => [uscc, labels.get(uscc) ?? null]));
      for (const before of earlier) {
        const differs = difference(before.cohort, members);
        if (differs > 0 && differs < limits.min_cohort_difference) {
          throw new GatewayError('backtest_too_similar', `the cohort and labels must equal an earlier back-test's or differ from it by at least ${limits.min_cohort_difference} enterprises`);
        }
      }

      const asOf = todayInShanghai(now());
      const distribution = new Map(usable.document.grades.map((grade) => [grade.grade, 0]));
      const labelled: Array<{ points: number; bad: boolean }> = [];
      for (const uscc of Object.keys(members)) {
        const result = await scoreSubject(usable.document, deps, uscc, asOf, new Set(await deps.disputes.disputedDatasets(uscc)), 0);
        distribution.set(result.grade, (distribution.get(result.grade) ?? 0) + 1);
        const label = members[uscc];
        if (label !== null && label !== undefined) labelled.push({ points: result.points, bad: label === 1 });
      }
      const bad = labelled.filter((entry) => entry.bad).length;
      const enough = bad >= limits.min_per_outcome && labelled.length - bad >= limits.min_per_outcome;
      const metrics = enough ? discrimination(labelled) : undefined;
      const aggregates = {
        scorecard: { id, version, sha256: usable.record.sha256 },
        purpose: request.purpose,
        as_of: asOf,
        cohort_size: cohort.size,
        grade_distribution: [...distribution].map(([grade, count]) => ({ grade, count })),
        labelled: labelled.length,
        ...(metrics ? { roc_auc: round2(metrics.rocAuc), ks: round2(metrics.ks) } : {}),
      };
      const appended = await deps.audit.append({
        kind: 'scorecard.backtested', actor: principal.participantId,
        details: {
          scorecard: id, version, sha256: usable.record.sha256, purpose: request.purpose, cohort_size: cohort.size, labelled: labelled.length,
          consent_ids: [...cohort.values()], request_sha256: principal.requestSha256,
        },
      });
      const record: BacktestRecord = {
        scorecardId: id, version, bankId: principal.participantId, purpose: request.purpose, cohort: members, at: now().toISOString(), auditIndex: appended.index,
      };
      await deps.scorecards.addBacktest(record);
      const answer = await deps.signer.sign(SIGNED_TYPES.backtest, principal.participantId, { request_sha256: principal.requestSha256, ...aggregates });
      return { answer, aggregates, auditIndex: appended.index };
    },
  };
}
