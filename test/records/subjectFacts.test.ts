/**
 * Subject facts (gateway/records/subjectFacts.ts) are a fast path: over random populations and random evaluation
 * dates, every question of the catalog gives through them exactly the answer the evaluator gives over the full
 * records — cut down in memory, and through a real store where facts are sealed, stored, served and invalidated.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createBlindIndexer } from '../../gateway/crypto/index.js';
import { loadDatasetRegistry } from '../../gateway/datasets/registry.js';
import type { DatasetId } from '../../gateway/datasets/registry.js';
import { loadDemoPopulation } from '../../gateway/demo/load.js';
import { demoEnterprise, demoPopulation } from '../../gateway/demo/population.js';
import { loadSecrets } from '../../gateway/keys/index.js';
import { evaluate, loadQuestionCatalog } from '../../gateway/policies/index.js';
import type { EvaluationRecord, Question, RecordsByDataset } from '../../gateway/policies/index.js';
import { factsOf, keptFields, recordsOfFacts } from '../../gateway/records/subjectFacts.js';
import { answerQuestions } from '../../gateway/verification/answers.js';
import { openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';

const registry = loadDatasetRegistry();
const catalog = loadQuestionCatalog(undefined, registry);
const kept = keptFields(catalog.questions);

/** A day from 2023-01-01 to 2028-12-31, as YYYY-MM-DD. */
const day = fc.integer({ min: Date.UTC(2023, 0, 1) / 86_400_000, max: Date.UTC(2028, 11, 31) / 86_400_000 })
  .map((days) => new Date(days * 86_400_000).toISOString().slice(0, 10));

/** The subject key a record is about, as the gateway links it (USCC or resident id). */
function subjectOf(dataset: DatasetId, values: Record<string, unknown>): string | undefined {
  const rule = registry.get(dataset).subject;
  const idNumber = values[rule.idNumberField];
  if (typeof idNumber !== 'string') return undefined;
  return `${'idType' in rule ? rule.idType : String(values[rule.idTypeField])}:${idNumber}`;
}

/** A demo population normalised as ingestion stores it, each record given one of a few as-of dates, by subject. */
function population(seed: number, enterprises: number, asOf: string, asOfDates: readonly string[], dropped: ReadonlySet<string>): Map<string, Record<string, EvaluationRecord[]>> {
  const subjects = new Map<string, Record<string, EvaluationRecord[]>>();
  let n = 0;
  for (const { dataset, rows } of demoPopulation({ enterprises, seed, asOf })) {
    for (const row of rows()) {
      const values: Record<string, unknown> = { ...row };
      // An added field a source left out: questions reading it must answer unknown both ways.
      for (const field of registry.get(dataset).fields) if (dropped.has(`${dataset}.${field.name}`) && !field.required) delete values[field.name];
      if (registry.validate(dataset, values, 1).length > 0) continue;
      const subject = subjectOf(dataset, values);
      if (subject === undefined) continue;
      const held = subjects.get(subject) ?? {};
      (held[dataset] ??= []).push({ values: values as EvaluationRecord['values'], asOf: asOfDates[n++ % asOfDates.length] as string });
      subjects.set(subject, held);
    }
  }
  return subjects;
}

/** Through the facts as they are stored: cut down, as JSON, and back. */
function throughFacts(records: RecordsByDataset, questions: readonly Question[]): RecordsByDataset {
  const datasets = new Set(questions.flatMap((question) => question.datasets));
  return Object.fromEntries([...datasets].map((dataset) => [
    dataset, recordsOfFacts(JSON.parse(JSON.stringify(factsOf(records[dataset] ?? [], kept.get(dataset) ?? []))) as ReturnType<typeof factsOf>),
  ]));
}

const optionalFields = registry.datasets.flatMap((dataset) => dataset.fields.filter((field) => !field.required).map((field) => `${dataset.id}.${field.name}`));

describe('subject facts', () => {
  it('keep every field a question reads, and nothing a question does not', () => {
    for (const question of catalog.questions) {
      for (const { dataset, fields } of question.program.reads) for (const field of fields) expect(kept.get(dataset)).to.include(field);
    }
    const read = new Set(catalog.questions.flatMap((question) => question.program.reads.flatMap(({ dataset, fields }) => fields.map((field) => `${dataset}.${field}`))));
    for (const [dataset, fields] of kept) for (const field of fields) expect(read.has(`${dataset}.${field}`), `${dataset}.${field}`).to.equal(true);
    // Not vacuous: the facts of the monthly payments keep a few of its columns, not all of them.
    const payments = registry.get('medical_insurance_payments').fields.length;
    expect(kept.get('medical_insurance_payments')?.length).to.be.within(1, payments - 1);
  });

  it('give every question the evaluator\'s answer over the full records, for random populations and dates', () => {
    let compared = 0;
    let known = 0;
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 ** 31 - 1 }), day, fc.array(day, { minLength: 1, maxLength: 3 }), fc.array(day, { minLength: 1, maxLength: 4 }),
      fc.subarray(optionalFields, { maxLength: 6 }),
      (seed, asOf, asOfDates, evaluationDates, dropped) => {
        for (const records of population(seed, 12, asOf, asOfDates, new Set(dropped)).values()) {
          for (const today of evaluationDates) {
            for (const question of catalog.questions) {
              const full = evaluate(question, { asOf: today, records });
              const fast = evaluate(question, { asOf: today, records: throughFacts(records, [question]) });
              expect(fast, `${question.id} on ${today}`).to.deep.equal(full);
              compared++;
              if (full.answer !== 'unknown') known++;
            }
          }
        }
      },
    ), { numRuns: 40 });
    // Not vacuous: most comparisons had an answer to compare.
    expect(known).to.be.greaterThan(compared / 4);
  });

  describe('through the store', () => {
    let test: TestRuntime;
    before(async () => {
      test = await openTestRuntime();
    });
    after(async () => test.dispose());

    /** The answers over the subject's full current records, as the gateway gave them before facts. */
    async function fullAnswers(uscc: string, today: string) {
      const records: Record<string, EvaluationRecord[]> = {};
      for (const dataset of new Set(catalog.questions.flatMap((question) => question.datasets))) {
        records[dataset] = (await test.runtime.records.bySubject(dataset, { idType: 'uscc', idNumber: uscc })).map((record) => ({ values: record.values, asOf: record.asOf }));
      }
      return answerQuestions(catalog.questions, records, today, new Set());
    }

    async function factsAnswers(uscc: string, today: string) {
      return answerQuestions(catalog.questions, await test.runtime.records.forQuestions(uscc, catalog.questions), today, new Set());
    }

    it('serve stored facts that answer as the records do, and stop serving them once a batch changes the records', async () => {
      const options = { enterprises: 25, seed: 20261204, asOf: '2026-11-30' };
      await loadDemoPopulation(test.runtime.ingestor, options);
      const usccs = Array.from({ length: options.enterprises }, (_, index) => demoEnterprise(options, index).uscc);
      const dates = ['2026-11-30', '2027-02-28', '2028-06-01'];
      const compare = async () => {
        for (const uscc of usccs) for (const today of dates) expect(await factsAnswers(uscc, today), `${uscc} on ${today}`).to.deep.equal(await fullAnswers(uscc, today));
      };
      await compare();
      // Served from stored facts now: a row per subject and dataset the questions read, of the current generation.
      const datasets = [...kept.keys()];
      const indexer = createBlindIndexer(loadSecrets(test.config.keysDir).blindIndex);
      const subjects = usccs.map((uscc) => indexer.subject({ idType: 'uscc', idNumber: uscc }));
      const stored = await test.runtime.store.subjectFacts(subjects, datasets);
      // (A dataset the small population left empty has no batch and nothing to keep.)
      const ingested = datasets.filter((dataset) => (stored.generations[dataset] ?? 0) > 0);
      expect(ingested.length).to.be.greaterThan(datasets.length / 2);
      expect(stored.facts).to.have.length(subjects.length * ingested.length);
      await compare();

      // A later batch restating the population (another seed changes who owes what): the facts follow it.
      const before = stored.generations;
      await loadDemoPopulation(test.runtime.ingestor, { ...options, seed: 7, asOf: '2026-12-02' });
      const after = await test.runtime.store.subjectFacts(subjects, datasets);
      for (const dataset of datasets) if ((before[dataset] ?? 0) > 0) expect(after.generations[dataset], dataset).to.be.greaterThan(before[dataset] as number);
      // None of the earlier facts is served for a dataset the new batches changed.
      const changed = new Set(datasets.filter((dataset) => after.generations[dataset] !== before[dataset]));
      expect(after.facts.filter((row) => changed.has(row.dataset))).to.deep.equal([]);
      await compare();
    });
  });
});
