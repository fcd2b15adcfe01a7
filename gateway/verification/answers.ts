/**
 * What verifications and credit reports share: whether a consent lets a bank ask questions about a subject, and the
 * answers to fixed questions over the subject's current records, each with its data-as-of date, whether it is stale,
 * and whether an open objection disputes the records it read (docs/objections.md).
 */
import type { ConsentState } from '../consent/index.js';
import type { Principal } from '../identity/index.js';
import { evaluate } from '../policies/index.js';
import type { Answer, Question, QuestionCatalog, RecordsByDataset } from '../policies/index.js';
import type { ConsentRecord } from '../store/index.js';

/** One answer as the gateway signs it. */
export interface GivenAnswer {
  readonly id: string;
  readonly version: number;
  readonly definition_hash: string;
  readonly answer: Answer;
  /** The newest as-of date of the records behind the answer; absent when the answer is unknown. */
  readonly data_as_of?: string;
  /** True when that date is older than the question allows: the answer says so rather than pretending. */
  readonly stale: boolean;
  /** Present, and true, while an objection to records the question reads is open. */
  readonly disputed?: true;
}

/** Why a bank may not ask; the same code whether or not the gateway holds data about the subject. */
export type RefusalCode = 'consent_missing' | 'consent_not_active' | 'question_not_covered' | 'purpose_not_allowed';

export interface ConsentCheck {
  readonly principal: Principal;
  readonly uscc: string;
  readonly questions: readonly string[];
  readonly nowSeconds: number;
  readonly stateOf: (consent: ConsentRecord) => Promise<ConsentState>;
  readonly catalog: Pick<QuestionCatalog, 'allowsPurpose'>;
}

/** The refusal for asking `questions` about `uscc` under `consent`, or undefined when they may be asked. */
export async function consentRefusal(consent: ConsentRecord | undefined, check: ConsentCheck): Promise<RefusalCode | undefined> {
  if (!consent || consent.bankId !== check.principal.participantId || consent.uscc !== check.uscc) return 'consent_missing';
  if (await check.stateOf(consent) !== 'active' || consent.notBefore > check.nowSeconds) return 'consent_not_active';
  if (check.questions.some((question) => !consent.questions.includes(question))) return 'question_not_covered';
  if (check.questions.some((question) => !check.catalog.allowsPurpose(question, consent.purpose))) return 'purpose_not_allowed';
  return undefined;
}

/** `{ disputed: true }` when the question reads a disputed dataset, else nothing. */
export function disputedMark(question: Pick<Question, 'datasets'>, disputed: ReadonlySet<string>): { disputed?: true } {
  return question.datasets.some((dataset) => disputed.has(dataset)) ? { disputed: true } : {};
}

/** Evaluates `questions` over the subject's records as of `asOf` (YYYY-MM-DD). */
export function answerQuestions(questions: readonly Question[], records: RecordsByDataset, asOf: string, disputed: ReadonlySet<string>): GivenAnswer[] {
  return questions.map((question) => {
    const evaluation = evaluate(question, { asOf, records });
    return {
      id: question.id, version: question.version, definition_hash: question.definitionHash, answer: evaluation.answer,
      ...(evaluation.dataAsOf ? { data_as_of: evaluation.dataAsOf } : {}), stale: evaluation.stale, ...disputedMark(question, disputed),
    };
  });
}
