/**
 * The automatic review of a submitted scorecard (docs/privacy.md, "Scorecards"): first that it is well-formed
 * against the catalog — every feature a current question, every answer of it in exactly one bin, every purpose
 * allowed — then the checks against extraction. A grade is a few bits about a subject; these checks keep those bits
 * a blend of several coarse answers rather than one answer, or one threshold, the bank could not ask for directly.
 * A scorecard with any finding is refused and never stored.
 */
import type { QuestionCatalog } from '../policies/index.js';
import { UNKNOWN } from '../policies/index.js';
import type { Answer } from '../policies/index.js';
import { allowsScoring } from './scorecard.js';
import type { ReviewRules, ScorecardDocument } from './scorecard.js';

export type FindingCode =
  | 'question_unknown'
  | 'question_version_mismatch'
  | 'duplicate_feature'
  | 'bins_incomplete'
  | 'purpose_not_allowed'
  | 'too_few_features'
  | 'too_many_features'
  | 'too_many_bins'
  | 'bin_isolates_answer'
  | 'grades_too_fine'
  | 'grades_unordered'
  | 'too_many_reason_codes'
  | 'feature_decides_grade'
  | 'cut_points_only';

export interface Finding {
  readonly code: FindingCode;
  /** The feature's question, when the finding is about one feature. */
  readonly question?: string;
  readonly detail: string;
}

/** The answers a question can give: its values and unknown (never "false" for no data). */
function answerDomain(catalog: QuestionCatalog, id: string): Answer[] {
  const spec = catalog.get(id).answer;
  return spec.type === 'boolean' ? [true, false, UNKNOWN] : [...spec.values, UNKNOWN];
}

function featureFindings(document: ScorecardDocument, catalog: QuestionCatalog, rules: ReviewRules): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const feature of document.features) {
    const question = feature.question;
    if (seen.has(question)) findings.push({ code: 'duplicate_feature', question, detail: `${question} is used by more than one feature` });
    seen.add(question);
    if (!catalog.has(question)) {
      findings.push({ code: 'question_unknown', question, detail: `${question} is not a question of the catalog` });
      continue;
    }
    const current = catalog.get(question).version;
    if (feature.question_version !== current) {
      findings.push({ code: 'question_version_mismatch', question, detail: `${question} is at version ${current}, not ${feature.question_version}` });
    }
    const refused = document.purposes.filter((purpose) => !catalog.allowsPurpose(question, purpose));
    if (refused.length > 0) findings.push({ code: 'purpose_not_allowed', question, detail: `${question} does not allow ${refused.join(', ')}` });

    const domain = answerDomain(catalog, question);
    const placed = feature.bins.flatMap((bin) => bin.answers);
    const missing = domain.filter((answer) => !placed.includes(answer));
    const foreign = placed.filter((answer) => !domain.includes(answer));
    const twice = placed.filter((answer, index) => placed.indexOf(answer) !== index);
    if (missing.length + foreign.length + twice.length > 0) {
      findings.push({
        code: 'bins_incomplete', question,
        detail: `every answer of ${question} (${domain.map(String).join(', ')}) must be in exactly one bin`
          + `${missing.length ? `; missing ${missing.map(String).join(', ')}` : ''}${foreign.length ? `; not an answer: ${foreign.map(String).join(', ')}` : ''}`
          + `${twice.length ? `; in two bins: ${twice.map(String).join(', ')}` : ''}`,
      });
    }
    if (feature.bins.length > rules.limits.max_bins_per_feature) {
      findings.push({ code: 'too_many_bins', question, detail: `${question} has ${feature.bins.length} bins; at most ${rules.limits.max_bins_per_feature}` });
    }
    // A band has ordered values; a bin holding fewer of them than the limit singles those values out. Booleans have
    // only two values, and unknown is no value of the subject's: neither can be split further.
    const known = domain.filter((answer) => answer !== UNKNOWN);
    if (known.length > rules.limits.min_answers_per_bin) {
      const narrow = feature.bins.filter((bin) => {
        const held = bin.answers.filter((answer) => answer !== UNKNOWN).length;
        return held > 0 && held < rules.limits.min_answers_per_bin;
      });
      if (narrow.length > 0) {
        findings.push({
          code: 'bin_isolates_answer', question,
          detail: `a bin of ${question} holds fewer than ${rules.limits.min_answers_per_bin} of its ${known.length} answers: ${narrow.map((bin) => bin.answers.map(String).join('+')).join(', ')}`,
        });
      }
    }
  }
  return findings;
}

function gradeFindings(document: ScorecardDocument, rules: ReviewRules): Finding[] {
  const findings: Finding[] = [];
  const { grades } = document;
  if (grades.length > rules.limits.max_grades) {
    findings.push({ code: 'grades_too_fine', detail: `${grades.length} grades; at most ${rules.limits.max_grades}` });
  }
  const cuts = grades.slice(0, -1).map((grade) => grade.min_points);
  const names = new Set(grades.map((grade) => grade.grade));
  if (cuts.some((cut) => cut === undefined) || grades.at(-1)?.min_points !== undefined || names.size !== grades.length) {
    findings.push({ code: 'grades_unordered', detail: 'every grade but the last needs min_points, the last has none, and grade names are distinct' });
    return findings;
  }
  const points = cuts as number[];
  for (let i = 1; i < points.length; i++) {
    const width = (points[i - 1] as number) - (points[i] as number);
    if (width <= 0) findings.push({ code: 'grades_unordered', detail: 'min_points must fall from the best grade to the worst' });
    else if (width < rules.limits.min_grade_width_points) {
      findings.push({ code: 'grades_too_fine', detail: `grades ${grades[i - 1]?.grade} and ${grades[i]?.grade} are ${width} points apart; at least ${rules.limits.min_grade_width_points}` });
    }
  }
  return findings;
}

/** Combinations of bins looked at, at most: max_features bins of max_bins_per_feature each stay well below. */
const MAX_COMBINATIONS = 1_000_000;

/**
 * The features whose bin alone decides the grade, whatever the other features' bins: with such a feature the grade is
 * that question's answer under another name, and the other features are decoys. Found by evaluating every
 * combination of bins; undefined when there are too many to look at (the limits keep far below).
 */
function decidingFeatures(document: ScorecardDocument): string[] | undefined {
  const sizes = document.features.map((feature) => feature.bins.length);
  const total = sizes.reduce((product, size) => product * size, 1);
  if (total > MAX_COMBINATIONS) return undefined;
  const gradesByBin = document.features.map((feature) => feature.bins.map(() => new Set<number>()));
  const all = new Set<number>();
  const choice = sizes.map(() => 0);
  for (let n = 0; n < total; n++) {
    let rest = n;
    sizes.forEach((size, index) => {
      choice[index] = rest % size;
      rest = Math.floor(rest / size);
    });
    const points = document.features.reduce((sum, feature, index) => sum + (feature.bins[choice[index] as number] as { points: number }).points, document.intercept);
    const grade = document.grades.findIndex((candidate) => candidate.min_points === undefined || points >= candidate.min_points);
    all.add(grade);
    choice.forEach((bin, index) => gradesByBin[index]?.[bin]?.add(grade));
  }
  if (all.size < 2) return [];
  return document.features.filter((_, index) => (gradesByBin[index] as Set<number>[]).every((grades) => grades.size === 1)).map((feature) => feature.question);
}

/**
 * Every finding against `document`; none means it may be approved. `sameSkeleton` are the approved scorecards with
 * the document's skeleton hash (scorecard.ts), by their own hash.
 */
export function reviewScorecard(document: ScorecardDocument, catalog: QuestionCatalog, rules: ReviewRules, sameSkeleton: ReadonlyArray<{ sha256: string; name: string }>, sha256: string): Finding[] {
  const findings = featureFindings(document, catalog, rules);
  const notScoring = document.purposes.filter((purpose) => !allowsScoring(rules, purpose));
  if (notScoring.length > 0) findings.push({ code: 'purpose_not_allowed', detail: `scoring is not allowed for ${notScoring.join(', ')}` });
  const count = document.features.length;
  if (count < rules.limits.min_features) findings.push({ code: 'too_few_features', detail: `${count} feature(s); at least ${rules.limits.min_features}` });
  if (count > rules.limits.max_features) findings.push({ code: 'too_many_features', detail: `${count} features; at most ${rules.limits.max_features}` });
  findings.push(...gradeFindings(document, rules));
  if ((document.max_reason_codes ?? 0) > rules.limits.max_reason_codes) {
    findings.push({ code: 'too_many_reason_codes', detail: `max_reason_codes is at most ${rules.limits.max_reason_codes}` });
  }
  // With one feature the grade is trivially its answer: too_few_features says so already.
  if (count >= rules.limits.min_features && count <= rules.limits.max_features && findings.every((finding) => finding.code !== 'grades_unordered')) {
    for (const question of decidingFeatures(document) ?? []) {
      findings.push({ code: 'feature_decides_grade', question, detail: `the bin of ${question} alone decides the grade, whatever the other features' bins` });
    }
  }
  const probed = sameSkeleton.filter((other) => other.sha256 !== sha256);
  if (probed.length > 0) {
    findings.push({ code: 'cut_points_only', detail: `differs from approved ${probed.map((other) => other.name).join(', ')} only in cut points` });
  }
  return findings;
}
