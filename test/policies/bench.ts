/**
 * Micro-benchmark of the question evaluator: every question of the catalog against every demo subject that has
 * records for it (a demo enterprise holds about thirty records: 24 monthly payment rows, three change rows, its
 * utility accounts). Not a test; run it after a build:
 *
 *   node dist/test/policies/bench.js [enterprises=2000] [rounds=5]
 *
 * Prints the mean time of one evaluation per question, over the best of `rounds` passes.
 */
import { loadDatasetRegistry } from '../../gateway/datasets/registry.js';
import type { NormalisedRecord } from '../../gateway/datasets/registry.js';
import { demoPopulation } from '../../gateway/demo/population.js';
import { evaluate, loadQuestionCatalog, policiesDir } from '../../gateway/policies/index.js';
import type { EvaluationRecord } from '../../gateway/policies/index.js';

const enterprises = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 5);
const asOf = '2025-06-15';

const registry = loadDatasetRegistry();
const catalog = loadQuestionCatalog(policiesDir, registry);

// The subject's records by dataset, as the record reader would return them for one subject.
const subjects = new Map<string, Record<string, EvaluationRecord[]>>();
for (const { dataset, rows } of demoPopulation({ enterprises, seed: 7, asOf })) {
  const rule = registry.get(dataset).subject;
  let rowNumber = 0;
  for (const source of rows()) {
    const row: Record<string, unknown> = { ...source };
    if (registry.validate(dataset, row, ++rowNumber).length > 0) throw new Error(`demo row ${rowNumber} of ${dataset} is invalid`);
    const idType = 'idType' in rule ? rule.idType : String(row[rule.idTypeField]);
    const key = `${idType}:${String(row[rule.idNumberField])}`;
    const records = subjects.get(key) ?? {};
    (records[dataset] ??= []).push({ values: row as NormalisedRecord, asOf: '2025-06-01' });
    subjects.set(key, records);
  }
}

const lines: string[] = [];
let totalNs = 0;
let totalEvaluations = 0;
for (const question of catalog.questions) {
  const inputs = [...subjects.values()]
    .filter((records) => question.knownIfRecordsIn.some((dataset) => (records[dataset]?.length ?? 0) > 0))
    .map((records) => ({ asOf, records }));
  const recordCount = inputs.reduce((sum, input) => sum + question.datasets.reduce((n, d) => n + (input.records[d]?.length ?? 0), 0), 0);
  for (const input of inputs) evaluate(question, input); // warm-up
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (const input of inputs) evaluate(question, input);
    best = Math.min(best, Number(process.hrtime.bigint() - start));
  }
  totalNs += best;
  totalEvaluations += inputs.length;
  lines.push(`${question.id.padEnd(32)} ${String(inputs.length).padStart(6)} subjects  ${(recordCount / Math.max(1, inputs.length)).toFixed(1).padStart(5)} records  ${(best / Math.max(1, inputs.length) / 1000).toFixed(2).padStart(6)} µs`);
}
console.log(`${enterprises} demo enterprises, ${subjects.size} subjects; mean time of one evaluation, best of ${rounds} passes`);
console.log(lines.join('\n'));
console.log(`all questions: ${totalEvaluations} evaluations, mean ${(totalNs / totalEvaluations / 1000).toFixed(2)} µs`);
