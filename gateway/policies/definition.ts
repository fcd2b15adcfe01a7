/**
 * The question file format (schemas/policy.schema.json) as TypeScript types, mirroring the JSON member for member
 * (snake_case included), and the answers and purposes it speaks of. Only the loader builds these from files; the
 * schema has already checked every shape below before a value of these types exists.
 */

/** The plan's four lending stages (客户筛选, 贷前调查, 贷中审批, 贷后管理). */
export const PURPOSES = ['customer_screening', 'pre_loan_investigation', 'loan_approval', 'post_loan_management'] as const;
export type Purpose = (typeof PURPOSES)[number];

export function isPurpose(value: string): value is Purpose {
  return (PURPOSES as readonly string[]).includes(value);
}

/** The answer when the gateway holds no records that could answer the question: never `false`. */
export const UNKNOWN = 'unknown';

/** `true`/`false` for a boolean question, a band name for a band question, or `unknown`. */
export type Answer = boolean | string;

export interface LocalText {
  readonly zh: string;
  readonly en: string;
}

export type Literal = number | string | boolean;

export interface ParamRef {
  readonly param: string;
}

/** A non-negative integer written out, or a parameter holding one. */
export type WholeNumber = number | ParamRef;

export interface AsOfRef {
  readonly as_of: { readonly months_before?: WholeNumber; readonly days_before?: WholeNumber };
}

export type Operand = Literal | ParamRef | AsOfRef;

export type ComparisonOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte';

/** A test of one record. */
export type Condition =
  | { readonly op: 'all' | 'any'; readonly of: readonly Condition[] }
  | { readonly op: 'not'; readonly of: Condition }
  | { readonly op: 'present' | 'absent'; readonly field: string }
  | { readonly op: ComparisonOp; readonly field: string; readonly value: Operand }
  | { readonly op: 'in'; readonly field: string; readonly values: readonly Literal[] }
  | { readonly op: 'within_last'; readonly field: string; readonly months?: WholeNumber; readonly days?: WholeNumber };

export interface MostRecent {
  readonly by: string;
  readonly count: WholeNumber;
}

/** Which of the subject's records in one dataset an aggregate or `exists` looks at. */
export interface RowSelection {
  readonly dataset: string;
  readonly where?: Condition;
  readonly most_recent?: MostRecent;
}

export type Aggregate =
  | (RowSelection & { readonly op: 'count'; readonly distinct?: string })
  | (RowSelection & { readonly op: 'sum' | 'min' | 'max' | 'compound'; readonly field: string })
  | { readonly op: 'last'; readonly dataset: string; readonly field: string; readonly by: string; readonly where?: Condition }
  | { readonly op: 'months_since'; readonly of: Aggregate };

/** A yes/no statement about the subject. */
export type Predicate =
  | { readonly op: 'all' | 'any'; readonly of: readonly Predicate[] }
  | { readonly op: 'not'; readonly of: Predicate }
  | (RowSelection & { readonly op: 'exists' })
  | { readonly op: ComparisonOp; readonly aggregate: Aggregate; readonly value: Operand };

export interface BandStep {
  readonly below?: number | ParamRef;
  readonly at_most?: number | ParamRef;
  readonly answer: string;
}

export type BandExpression =
  | { readonly op: 'band'; readonly aggregate: Aggregate; readonly bands: readonly BandStep[]; readonly otherwise: string }
  | {
    readonly op: 'cases';
    readonly cases: ReadonlyArray<{ readonly when: Predicate; readonly answer: string }>;
    readonly otherwise?: string;
  };

export type AnswerSpec = { readonly type: 'boolean' } | { readonly type: 'band'; readonly values: readonly string[] };

/** One question file, exactly as written (and hashed). */
export interface QuestionDefinition {
  readonly id: string;
  readonly version: number;
  readonly title: LocalText;
  readonly description: LocalText;
  readonly datasets: readonly string[];
  readonly known_if_records_in: readonly string[];
  readonly parameters: Readonly<Record<string, Literal>>;
  readonly answer: AnswerSpec;
  readonly expression: Predicate | BandExpression;
  readonly purposes: readonly Purpose[];
  readonly freshness: { readonly max_age_days: number };
}

/** policies/packs.json (schemas/question-pack.schema.json). */
export interface PackDefinition {
  readonly id: string;
  readonly title: LocalText;
  readonly description: LocalText;
  readonly questions: readonly string[];
  readonly purposes?: readonly Purpose[];
}

export interface PackFile {
  readonly packs: readonly PackDefinition[];
}
