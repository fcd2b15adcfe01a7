/**
 * What scoring and back-testing share: the approved scorecard a bank may use, and a scorecard evaluated on one
 * subject's current records through the same question evaluation verifications use.
 */
import type { QuestionCatalog } from '../policies/index.js';
import { UNKNOWN } from '../policies/index.js';
import type { Answer } from '../policies/index.js';
import type { RecordReader } from '../records/index.js';
import type { ScorecardRecord, ScorecardStore } from '../store/index.js';
import { answerQuestions } from '../verification/answers.js';
import { evaluateScorecard } from './evaluate.js';
import type { ScoreResult } from './evaluate.js';
import type { ReviewRules, ScorecardDocument } from './scorecard.js';

export interface UsableScorecard {
  readonly record: ScorecardRecord;
  readonly document: ScorecardDocument;
}

/**
 * The scorecard if it is this bank's, approved, and every feature's question is still the definition it was reviewed
 * against; otherwise undefined, the same for each case (fail closed: a changed question may change what a bin means).
 */
export async function usableScorecard(store: ScorecardStore, catalog: QuestionCatalog, bankId: string, id: string, version: number): Promise<UsableScorecard | undefined> {
  const record = await store.getScorecard(id, version);
  if (!record || record.bankId !== bankId || record.state !== 'approved') return undefined;
  const document = JSON.parse(record.document) as ScorecardDocument;
  const unchanged = document.features.every((feature) =>
    catalog.has(feature.question) && catalog.definitionHash(feature.question) === record.questionHashes[feature.question]);
  return unchanged ? { record, document } : undefined;
}

export interface SubjectScore extends ScoreResult {
  /** True while an open objection disputes records a feature read (docs/objections.md). */
  readonly disputed: boolean;
}

/** Reason codes a score carries: the scorecard's choice, within the review rules' limit. */
export function reasonLimit(document: ScorecardDocument, rules: ReviewRules): number {
  return Math.min(document.max_reason_codes ?? rules.limits.max_reason_codes, rules.limits.max_reason_codes);
}

/**
 * The scorecard on the subject's records as of `asOf`. A stale answer counts as unknown: the score must not rest on
 * a fact older than its question allows.
 */
export async function scoreSubject(document: ScorecardDocument, deps: { questions: QuestionCatalog; records: RecordReader }, uscc: string, asOf: string,
  disputed: ReadonlySet<string>, maxReasons: number): Promise<SubjectScore> {
  const questions = document.features.map((feature) => deps.questions.get(feature.question));
  const records = await deps.records.forQuestions(uscc, questions);
  const given = answerQuestions(questions, records, asOf, disputed);
  const answers = new Map<string, Answer>(given.map((answer) => [answer.id, answer.stale ? UNKNOWN : answer.answer]));
  return { ...evaluateScorecard(document, answers, maxReasons), disputed: given.some((answer) => answer.disputed === true) };
}
