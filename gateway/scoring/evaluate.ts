/**
 * Evaluating a reviewed scorecard on one subject's answers: the intercept plus each feature's bin points, the first
 * grade the total reaches, and reason codes ranked by points lost against the feature's best bin (PMML's
 * pointsBelow with baselineMethod max; FICO-style adverse-action reasons). Pure: the result depends on the answers
 * of the declared features and nothing else (test/scoring/evaluate.test.ts).
 */
import { GatewayError } from '../errors/index.js';
import { UNKNOWN } from '../policies/index.js';
import type { Answer } from '../policies/index.js';
import type { ScorecardDocument } from './scorecard.js';

export interface ScoreResult {
  readonly points: number;
  readonly grade: string;
  /** The reason codes of the features that cost most, most first; ties in feature order. */
  readonly reasons: readonly string[];
}

/** `answers` by question id; a feature whose question has no answer there counts as unknown. */
export function evaluateScorecard(document: ScorecardDocument, answers: ReadonlyMap<string, Answer>, maxReasons: number): ScoreResult {
  let points = document.intercept;
  const lost: Array<{ reason: string; lost: number; order: number }> = [];
  document.features.forEach((feature, order) => {
    const answer = answers.get(feature.question) ?? UNKNOWN;
    const bin = feature.bins.find((candidate) => candidate.answers.includes(answer));
    // Review made every answer fall in exactly one bin; anything else is a bug, not a score.
    if (!bin) throw new GatewayError('internal_error', `scorecard ${document.id} has no bin for an answer of ${feature.question}`);
    points += bin.points;
    const best = Math.max(...feature.bins.map((candidate) => candidate.points));
    if (bin.points < best) lost.push({ reason: feature.reason_code, lost: best - bin.points, order });
  });
  const grade = document.grades.find((candidate) => candidate.min_points === undefined || points >= candidate.min_points);
  if (!grade) throw new GatewayError('internal_error', `scorecard ${document.id} has no grade for a total`);
  const reasons = lost.sort((a, b) => b.lost - a.lost || a.order - b.order).slice(0, maxReasons).map((entry) => entry.reason);
  return { points, grade: grade.grade, reasons };
}
