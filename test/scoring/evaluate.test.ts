// Property tests (fast-check) of scorecard evaluation (gateway/scoring/evaluate.ts, subject.ts) over random
// scorecards on the real question catalog: the score, grade and reason codes depend only on the answers of the
// declared features — changing any other question's answer changes nothing, and scoring a subject reads only the
// datasets of the declared questions —; a better bin never gives a worse grade; reason codes are declared features
// that lost points, at most the limit; every scorecard the review passes can be evaluated on every answer; and the
// back-test's ROC AUC and KS equal their pair-by-pair definitions.
import { expect } from 'chai';
import fc from 'fast-check';
import { loadQuestionCatalog, UNKNOWN } from '../../gateway/policies/index.js';
import type { Answer, QuestionCatalog } from '../../gateway/policies/index.js';
import type { OpenedRecord, RecordReader } from '../../gateway/records/index.js';
import { discrimination, evaluateScorecard, loadReviewRules, reviewScorecard } from '../../gateway/scoring/index.js';
import type { ScorecardDocument } from '../../gateway/scoring/index.js';
import { scoreSubject } from '../../gateway/scoring/subject.js';

const catalog: QuestionCatalog = loadQuestionCatalog();
const rules = loadReviewRules();
const QUESTIONS = catalog.questions.map((question) => question.id);

function domain(id: string): Answer[] {
  const spec = catalog.get(id).answer;
  return spec.type === 'boolean' ? [true, false, UNKNOWN] : [...spec.values, UNKNOWN];
}

/** A random partition of `values` into at most `maxBins` non-empty bins. */
const partition = (values: readonly Answer[], maxBins: number) =>
  fc.array(fc.integer({ min: 0, max: Math.max(0, Math.min(maxBins, values.length) - 1) }), { minLength: values.length, maxLength: values.length })
    .map((slots) => {
      const bins = new Map<number, Answer[]>();
      slots.forEach((slot, index) => bins.set(slot, [...(bins.get(slot) ?? []), values[index] as Answer]));
      return [...bins.values()];
    });

/** A well-formed scorecard on 2-6 distinct catalog questions; not necessarily one the review would pass. */
const scorecards: fc.Arbitrary<ScorecardDocument> = fc.uniqueArray(fc.constantFrom(...QUESTIONS), { minLength: 2, maxLength: 6 })
  .chain((ids) => fc.record({
    intercept: fc.integer({ min: -500, max: 1000 }),
    features: fc.tuple(...ids.map((id, order) => partition(domain(id), 4).chain((bins) => fc.record({
      question: fc.constant(id), question_version: fc.constant(catalog.get(id).version), reason_code: fc.constant(`R${order}`),
      bins: fc.tuple(...bins.map((answers) => fc.record({ answers: fc.constant(answers), points: fc.integer({ min: -200, max: 200 }) }))),
    })))),
    cuts: fc.uniqueArray(fc.integer({ min: -1000, max: 2000 }), { minLength: 1, maxLength: 4 }),
    maxReasons: fc.integer({ min: 0, max: 3 }),
  }))
  .map(({ intercept, features, cuts, maxReasons }) => ({
    id: 'property_model', version: 1, title: 'property', purposes: ['loan_approval'], intercept, features, max_reason_codes: maxReasons,
    grades: [...[...cuts].sort((a, b) => b - a).map((cut, index) => ({ grade: `G${index}`, min_points: cut })), { grade: `G${cuts.length}` }],
  }) as ScorecardDocument);

/** Answers to every question of the catalog. */
const answerSets = fc.record(Object.fromEntries(QUESTIONS.map((id) => [id, fc.constantFrom(...domain(id))]))) as fc.Arbitrary<Record<string, Answer>>;

const gradeRank = (document: ScorecardDocument, grade: string) => document.grades.findIndex((candidate) => candidate.grade === grade);

describe('scorecard evaluation (properties)', function () {
  it('catalog has questions to build scorecards on', function () {
    expect(QUESTIONS.length).to.be.greaterThan(6);
  });

  it('depends only on the answers of the declared features', function () {
    fc.assert(fc.property(scorecards, answerSets, answerSets, (document, answers, others) => {
      const declared = new Set(document.features.map((feature) => feature.question));
      // The same declared answers, every other question answered from `others`.
      const mixed = new Map(QUESTIONS.map((id) => [id, declared.has(id) ? answers[id] as Answer : others[id] as Answer]));
      const onlyDeclared = new Map([...declared].map((id) => [id, answers[id] as Answer]));
      const result = evaluateScorecard(document, new Map(Object.entries(answers)), 3);
      expect(evaluateScorecard(document, mixed, 3)).to.deep.equal(result);
      expect(evaluateScorecard(document, onlyDeclared, 3)).to.deep.equal(result);
    }));
  });

  it('gives reason codes only of declared features that lost points, worst first, at most the limit', function () {
    fc.assert(fc.property(scorecards, answerSets, fc.integer({ min: 0, max: 6 }), (document, answers, limit) => {
      const { reasons } = evaluateScorecard(document, new Map(Object.entries(answers)), limit);
      expect(reasons.length).to.be.at.most(limit);
      const lost = (code: string) => {
        const feature = document.features.find((candidate) => candidate.reason_code === code);
        expect(feature, code).to.not.equal(undefined);
        const bin = feature!.bins.find((candidate) => candidate.answers.includes(answers[feature!.question] as Answer));
        return Math.max(...feature!.bins.map((candidate) => candidate.points)) - bin!.points;
      };
      const losses = reasons.map(lost);
      for (const loss of losses) expect(loss).to.be.greaterThan(0);
      expect(losses).to.deep.equal([...losses].sort((a, b) => b - a));
    }));
  });

  it('never gives a worse grade for a better bin', function () {
    fc.assert(fc.property(scorecards, answerSets, fc.nat(), fc.nat(), (document, answers, which, to) => {
      const feature = document.features[which % document.features.length]!;
      const current = feature.bins.find((bin) => bin.answers.includes(answers[feature.question] as Answer))!;
      const other = feature.bins[to % feature.bins.length]!;
      const before = evaluateScorecard(document, new Map(Object.entries(answers)), 0);
      const after = evaluateScorecard(document, new Map(Object.entries({ ...answers, [feature.question]: other.answers[0] as Answer })), 0);
      if (other.points >= current.points) expect(gradeRank(document, after.grade)).to.be.at.most(gradeRank(document, before.grade));
    }));
  });

  it('evaluates every scorecard the review passes, on every answer', function () {
    let passed = 0;
    fc.assert(fc.property(scorecards, answerSets, (document, answers) => {
      if (reviewScorecard(document, catalog, rules, [], 'x').length > 0) return;
      passed++;
      expect(() => evaluateScorecard(document, new Map(Object.entries(answers)), 3)).to.not.throw();
    }), { numRuns: 2000 });
    // Not vacuous: some random scorecards pass the review.
    expect(passed).to.be.greaterThan(0);
  });

  it('reads, for a subject, only the datasets of the declared questions', async function () {
    await fc.assert(fc.asyncProperty(scorecards, async (document) => {
      const read = new Set<string>();
      const records: RecordReader = {
        async bySubject(dataset): Promise<OpenedRecord[]> {
          read.add(dataset);
          return [];
        },
        async forQuestions(_uscc, questions) {
          for (const question of questions) for (const dataset of question.datasets) read.add(dataset);
          return {};
        },
      };
      await scoreSubject(document, { questions: catalog, records }, '91350100M000100Y43', '2026-12-04', new Set(), 3);
      const declared = new Set<string>(document.features.flatMap((feature) => catalog.get(feature.question).datasets));
      for (const dataset of read) expect(declared.has(dataset), dataset).to.equal(true);
    }), { numRuns: 100 });
  });
});

describe('back-test statistics (properties)', function () {
  /** The definitions, pair by pair and cut by cut. */
  function naive(labelled: ReadonlyArray<{ points: number; bad: boolean }>): { rocAuc: number; ks: number } {
    const bad = labelled.filter((entry) => entry.bad).map((entry) => entry.points);
    const good = labelled.filter((entry) => !entry.bad).map((entry) => entry.points);
    let wins = 0;
    for (const g of good) for (const b of bad) wins += g > b ? 1 : g === b ? 0.5 : 0;
    let ks = 0;
    for (const cut of labelled.map((entry) => entry.points)) {
      ks = Math.max(ks, Math.abs(bad.filter((p) => p <= cut).length / bad.length - good.filter((p) => p <= cut).length / good.length));
    }
    return { rocAuc: wins / (good.length * bad.length), ks };
  }

  it('computes ROC AUC and KS as their definitions do, ties included', function () {
    const cohorts = fc.array(fc.record({ points: fc.integer({ min: 0, max: 20 }), bad: fc.boolean() }), { minLength: 2, maxLength: 80 })
      .filter((cohort) => cohort.some((entry) => entry.bad) && cohort.some((entry) => !entry.bad));
    fc.assert(fc.property(cohorts, (cohort) => {
      const fast = discrimination(cohort);
      const slow = naive(cohort);
      expect(fast.rocAuc).to.be.closeTo(slow.rocAuc, 1e-9);
      expect(fast.ks).to.be.closeTo(slow.ks, 1e-9);
    }));
  });
});
