/**
 * Answers one question about one subject from the records the caller read for it (records/recordReader.ts). Pure
 * and deterministic: the evaluation date comes in with the records, nothing reads a clock, and the same input always
 * gives the same answer. It never throws on records that passed their dataset schema; it throws only when the
 * evaluation date itself is not a date.
 *
 * No data is not 'no': when the subject has no record in any of the question's `known_if_records_in` datasets the
 * answer is `unknown`, never `false`. Freshness: the answer carries the newest batch as-of date among the records it
 * read, and is `stale` when that is more than the question's max_age_days before the evaluation date.
 *
 * No field is not a value either: a question that reads a field the catalog lacks (an added field, which a source
 * exporting exactly the catalog's columns does not send) answers `unknown` for a subject with a record without it,
 * rather than guessing from the records that have it (docs/data-catalog.md).
 */
import { GatewayError } from '../errors/index.js';
import type { BoundSpec, Context, RecordsByDataset } from './compile.js';
import { dateDaysBefore, dateMonthsBefore, formatDate, monthBefore, parseDate } from './dates.js';
import type { CalendarDate } from './dates.js';
import { UNKNOWN } from './definition.js';
import type { Answer } from './definition.js';
import type { Question, QuestionRef } from './question.js';

export interface EvaluationInput {
  /** The evaluation date, YYYY-MM-DD: windows end on it and freshness is measured from it. */
  readonly asOf: string;
  readonly records: RecordsByDataset;
}

export interface Evaluation {
  readonly answer: Answer;
  /** The newest batch as-of date among the records read; absent when the answer is unknown for lack of records. */
  readonly dataAsOf?: string;
  readonly stale: boolean;
  /** Which definition answered: goes into every signed answer, so a changed definition is visible. */
  readonly question: QuestionRef;
}

function resolve(spec: BoundSpec, asOf: CalendarDate): string {
  if (spec.unit === 'month') return monthBefore(asOf, spec.monthsBefore);
  return formatDate(dateDaysBefore(dateMonthsBefore(asOf, spec.monthsBefore), spec.daysBefore));
}

export function evaluate(question: Question, input: EvaluationInput): Evaluation {
  const { program } = question;
  const { records } = input;
  const asOf = parseDate(input.asOf);
  if (!asOf) throw new GatewayError('invalid_argument', `evaluation date must be YYYY-MM-DD, got "${input.asOf.slice(0, 20)}"`);
  let known = false;
  for (const dataset of program.knownIf) {
    if ((records[dataset]?.length ?? 0) > 0) {
      known = true;
      break;
    }
  }
  if (!known) return { answer: UNKNOWN, stale: false, question: question.ref };
  for (const { dataset, fields } of program.unknownWithout) {
    for (const record of records[dataset] ?? []) {
      for (const field of fields) if (record.values[field] === undefined) return { answer: UNKNOWN, stale: false, question: question.ref };
    }
  }

  let dataAsOf = '';
  for (const dataset of program.datasets) {
    for (const record of records[dataset] ?? []) if (record.asOf > dataAsOf) dataAsOf = record.asOf;
  }
  const context: Context = { asOf, bounds: program.bounds.map((spec) => resolve(spec, asOf)) };
  const freshFrom = formatDate(dateDaysBefore(asOf, question.maxAgeDays));
  return { answer: program.answer(records, context), dataAsOf, stale: dataAsOf < freshFrom, question: question.ref };
}
