/**
 * Question fixtures, policies/fixtures/<question id>.json: records in, expected answer out, kept beside the
 * questions as data (like OPA's testdata). Rows are written the way a source sends them (amounts in yuan), with
 * only the fields that matter to the case; the required identity and descriptive fields (names, codes, ids,
 * addresses), which no question may read, are filled in here. Every row then goes through its dataset schema,
 * which normalises it exactly as ingestion does, so a fixture can only hold records the gateway could have stored.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isDatasetId } from '../datasets/registry.js';
import type { DatasetRegistry, NormalisedRecord } from '../datasets/registry.js';
import { GatewayError } from '../errors/index.js';
import { policiesDir } from './catalog.js';
import type { EvaluationRecord } from './compile.js';
import type { Answer } from './definition.js';
import type { EvaluationInput } from './evaluate.js';
import { compilePolicySchemas, readPolicyFile, schemaErrors } from './schemas.js';

export interface FixtureCase {
  readonly name: string;
  readonly as_of: string;
  readonly data_as_of?: string;
  readonly records: Readonly<Record<string, ReadonlyArray<Record<string, unknown>>>>;
  readonly expect: { readonly answer: Answer; readonly stale?: boolean; readonly data_as_of?: string };
}

export interface QuestionFixtures {
  readonly question: string;
  readonly version: number;
  readonly cases: readonly FixtureCase[];
  readonly file: string;
}

/** A valid USCC (check character included) for rows that do not care whose they are. */
const FIXTURE_USCC = '91370102MA3M9XQ1L1';

/** Values for required fields of the kinds no question reads, by field kind; `n` numbers the row. */
const FILLERS: Readonly<Record<string, (n: number) => string>> = {
  name: () => '示例主体',
  text: () => '示例',
  code: (n) => `FX${n}`,
  code_list: (n) => `FX${n}`,
  uscc: () => FIXTURE_USCC,
  id_type: () => 'uscc',
  id_number: () => FIXTURE_USCC,
};

export function loadQuestionFixtures(directory: string = policiesDir): QuestionFixtures[] {
  const validate = compilePolicySchemas().fixtures;
  const fixturesDir = path.join(directory, 'fixtures');
  return fs.readdirSync(fixturesDir).filter((name) => name.endsWith('.json')).sort().map((name) => {
    const file = path.join(fixturesDir, name);
    const parsed = readPolicyFile(file);
    if (!validate(parsed)) throw new GatewayError('invalid_configuration', `${file}: ${schemaErrors(validate.errors)}`);
    const fixtures = parsed as Omit<QuestionFixtures, 'file'>;
    if (name !== `${fixtures.question}.json`) {
      throw new GatewayError('invalid_configuration', `${file}: fixtures of ${fixtures.question} belong in ${fixtures.question}.json`);
    }
    return { ...fixtures, file };
  });
}

/** The evaluation input of a case: rows completed, validated and normalised; throws naming the case and row. */
export function fixtureInput(registry: DatasetRegistry, fixture: QuestionFixtures, fixtureCase: FixtureCase): EvaluationInput {
  const asOf = fixtureCase.data_as_of ?? fixtureCase.as_of;
  const records: Record<string, EvaluationRecord[]> = {};
  const where = `${fixture.file}: case "${fixtureCase.name}"`;
  for (const [datasetId, rows] of Object.entries(fixtureCase.records)) {
    if (!isDatasetId(datasetId)) throw new GatewayError('invalid_configuration', `${where}: unknown dataset "${datasetId}"`);
    const dataset = registry.get(datasetId);
    records[dataset.id] = rows.map((source, index) => {
      const row: Record<string, unknown> = { ...source };
      for (const field of dataset.fields) {
        const fill = FILLERS[field.kind];
        if (field.required && fill && row[field.name] === undefined) row[field.name] = fill(index + 1);
      }
      const errors = registry.validate(dataset.id, row, index + 1);
      if (errors.length > 0) {
        const reasons = errors.map((error) => `${error.field ?? ''} ${error.reason}`.trim()).join('; ');
        throw new GatewayError('invalid_configuration', `${where}: ${dataset.id} row ${index + 1}: ${reasons}`);
      }
      return { values: row as NormalisedRecord, asOf };
    });
  }
  return { asOf: fixtureCase.as_of, records };
}
