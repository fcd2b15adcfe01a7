/**
 * The scorecard document (schemas/api/scorecard.v1.json) as types, its hashes, the name a consent gives it, and the
 * review rules of policies/scorecard-review.json (schemas/scorecard-review.schema.json), loaded and checked once at
 * start like every policy file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import canonicalize from 'canonicalize';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import { schemasDir } from '../paths.js';
import { policiesDir } from '../policies/index.js';
import type { Answer, Purpose } from '../policies/index.js';
import { readPolicyFile, schemaErrors } from '../policies/schemas.js';

export interface ScorecardBin {
  readonly answers: readonly Answer[];
  readonly points: number;
}

export interface ScorecardFeature {
  readonly question: string;
  readonly question_version: number;
  readonly reason_code: string;
  readonly bins: readonly ScorecardBin[];
}

export interface ScorecardGrade {
  readonly grade: string;
  readonly min_points?: number;
}

/** One scorecard file, exactly as submitted (and hashed). */
export interface ScorecardDocument {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly purposes: readonly Purpose[];
  readonly intercept: number;
  readonly features: readonly ScorecardFeature[];
  readonly grades: readonly ScorecardGrade[];
  readonly max_reason_codes?: number;
}

export interface ReviewLimits {
  readonly min_features: number;
  readonly max_features: number;
  readonly max_bins_per_feature: number;
  readonly min_answers_per_bin: number;
  readonly max_grades: number;
  readonly min_grade_width_points: number;
  readonly max_reason_codes: number;
}

export interface ReviewRules {
  readonly scoring_purposes: readonly Purpose[];
  readonly limits: ReviewLimits;
  readonly backtest: { readonly min_cohort: number; readonly min_per_outcome: number; readonly min_cohort_difference: number; readonly max_per_day: number };
  readonly auto_approve: ReadonlyArray<{ readonly banks: readonly string[]; readonly release_score: boolean }>;
}

export const REVIEW_RULES_FILE = path.join(policiesDir, 'scorecard-review.json');

/** Reads and validates the review rules; throws invalid_configuration naming the file at the first problem. */
export function loadReviewRules(file: string = REVIEW_RULES_FILE): ReviewRules {
  const validate = new Ajv2020({ strict: true, allErrors: true })
    .compile<ReviewRules>(JSON.parse(fs.readFileSync(path.join(schemasDir, 'scorecard-review.schema.json'), 'utf8')) as object);
  const parsed = readPolicyFile(file);
  if (!validate(parsed)) throw new GatewayError('invalid_configuration', `${file}: ${schemaErrors(validate.errors)}`);
  if (parsed.limits.min_features > parsed.limits.max_features) {
    throw new GatewayError('invalid_configuration', `${file}: /limits: min_features is above max_features`);
  }
  return parsed;
}

/** Whether a consent for `purpose` may name a scorecard: the one rule both the consent grant and scoring apply. */
export function allowsScoring(rules: Pick<ReviewRules, 'scoring_purposes'>, purpose: string): boolean {
  return (rules.scoring_purposes as readonly string[]).includes(purpose);
}

/** What a consent names to let a bank score the enterprise with this scorecard: `scorecard.<id>.v<version>`. */
export function scorecardRef(id: string, version: number): string {
  return `scorecard.${id}.v${version}`;
}

const REF = /^scorecard\.([a-z][a-z0-9_]{0,63})\.v([1-9][0-9]{0,6})$/;

/** The id and version a consent's name stands for, or undefined when the name is not a scorecard's. */
export function parseScorecardRef(name: string): { id: string; version: number } | undefined {
  const match = REF.exec(name);
  return match ? { id: match[1] as string, version: Number(match[2]) } : undefined;
}

function hashOf(value: unknown, what: string): string {
  const text = canonicalize(value);
  if (text === undefined) throw new GatewayError('internal_error', `${what} could not be canonicalised`);
  return sha256Hex(text);
}

/** SHA-256 (hex) of the document's RFC 8785 canonical form: what every score names. */
export function hashScorecard(document: ScorecardDocument): string {
  return hashOf(document, `scorecard ${document.id}`);
}

/**
 * The hash of what a scorecard is without its cut points: its features and the points each can give (but not which
 * answers fall in which bin), its intercept, and its grade names (but not their cut points). Two scorecards with the
 * same skeleton differ only in where they cut, which is how resubmission probes a value (docs/privacy.md).
 */
export function skeletonHash(document: ScorecardDocument): string {
  const features = [...document.features]
    .sort((a, b) => (a.question < b.question ? -1 : a.question > b.question ? 1 : 0))
    .map((feature) => ({ question: feature.question, points: feature.bins.map((bin) => bin.points).sort((a, b) => a - b) }));
  return hashOf({ intercept: document.intercept, features, grades: document.grades.map((grade) => grade.grade) }, `scorecard ${document.id}`);
}
