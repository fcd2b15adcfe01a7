// Pins the twelve dataset schemas to their fixtures (valid rows pass and are normalised, invalid rows fail with the expected field and reason) and to fields.md (Chinese titles, descriptions, required keys, [added] fields).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { datasetIds, loadDatasetRegistry } from '../../gateway/datasets/registry.js';
import type { DatasetDefinition, DatasetId, DatasetRegistry } from '../../gateway/datasets/registry.js';
import { packageRoot } from '../../gateway/paths.js';

interface ExpectedError {
  field: string;
  reason: string;
}

interface InvalidCase {
  why: string;
  row: Record<string, unknown>;
  errors: ExpectedError[];
}

interface Fixture {
  valid: Record<string, unknown>[];
  invalid: InvalidCase[];
}

const fixturesDir = path.join(packageRoot, 'test', 'fixtures', 'datasets');
const CJK = /[\u3400-\u9fff]/;
const TRUE_FLAGS: readonly unknown[] = [true, 'true', '是', '1', 1];
const FALSE_FLAGS: readonly unknown[] = [false, 'false', '否', '0', 0];

/** The fields fields.md marks [added], by dataset. */
const ADDED_FIELDS: Record<DatasetId, readonly string[]> = {
  medical_insurance_payments: [],
  medical_insurance_arrears: [],
  medical_insurance_changes: ['month'],
  private_medical_institutions: [],
  agri_insurance: [],
  agri_subsidies: ['grant_date'],
  large_growers: [],
  agri_entities: ['farming_scale_unit'],
  land_transfers: ['transferee_id_type', 'transferee_id_number', 'transfer_start_date', 'transfer_end_date'],
  water_accounts: ['account_number'],
  electricity_accounts: ['account_number'],
  gas_accounts: ['account_number'],
};

function fixtureFile(id: string): string {
  return path.join(fixturesDir, `${id}.json`);
}

function readFixture(id: DatasetId): Fixture | undefined {
  const file = fixtureFile(id);
  if (!fs.existsSync(file)) return undefined;
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  return parsed as Fixture;
}

/** What the yuan keyword must turn an input amount into, computed independently of it. */
function expectedFen(amount: unknown): number {
  return Math.round(Number(amount) * 100);
}

function fieldsOfKind(definition: DatasetDefinition, kind: string): string[] {
  return definition.fields.filter((field) => field.kind === kind).map((field) => field.name);
}

const registry: DatasetRegistry = loadDatasetRegistry();

describe('dataset schemas', () => {
  it('has a fixture file for every dataset and none for anything else', () => {
    for (const id of datasetIds) expect(fs.existsSync(fixtureFile(id)), `${id}.json`).to.equal(true);
    const extra = fs
      .readdirSync(fixturesDir)
      .filter((file) => !(datasetIds as readonly string[]).includes(path.basename(file, '.json')));
    expect(extra).to.deep.equal([]);
  });

  it('normalises "1234.5" to 123450 fen, "0.00" to 0 and 是/0 to booleans', () => {
    const row: Record<string, unknown> = {
      enterprise_name: '济南明德机械有限公司',
      uscc: '91370102MA3M9XQ1L1',
      account_number: '0102038176',
      account_opening_date: '2015-07-20',
      service_address: '济南市历下区工业南路57号',
      prepaid_amount: '1234.5',
      arrears_amount: '0.00',
      one_meter_per_household: '是',
    };
    expect(registry.validate('water_accounts', row, 1)).to.deep.equal([]);
    expect(row['prepaid_amount']).to.equal(123450);
    expect(row['arrears_amount']).to.equal(0);
    expect(row['one_meter_per_household']).to.equal(true);
    const other = { ...row, prepaid_amount: 20512.75, arrears_amount: 7, one_meter_per_household: '0' };
    expect(registry.validate('water_accounts', other, 2)).to.deep.equal([]);
    expect(other.prepaid_amount).to.equal(2051275);
    expect(other.arrears_amount).to.equal(700);
    expect(other.one_meter_per_household).to.equal(false);
  });

  for (const id of datasetIds) {
    describe(id, () => {
      const fixture = readFixture(id);
      const definition = registry.get(id);

      it('gives every field a Chinese title and a description', () => {
        expect(definition.titleZh).to.match(CJK);
        expect(definition.description).to.not.equal('');
        for (const field of definition.fields) {
          expect(field.titleZh, field.name).to.match(CJK);
          expect(field.description.trim(), field.name).to.not.equal('');
        }
      });

      it('requires the natural key and subject fields, but no added field: a catalog-only row keys on catalog fields', () => {
        const required = new Set(definition.fields.filter((field) => field.required).map((field) => field.name));
        const added = new Set(definition.fields.filter((field) => field.added).map((field) => field.name));
        const subjectFields = [definition.subject.idNumberField];
        if ('idTypeField' in definition.subject) subjectFields.push(definition.subject.idTypeField);
        expect(definition.naturalKey.length).to.be.greaterThan(0);
        for (const name of added) expect(required.has(name), `${name} is added, so optional`).to.equal(false);
        for (const name of [...definition.naturalKey, ...subjectFields]) {
          expect(required.has(name) || added.has(name), `${name} is required or added`).to.equal(true);
        }
        const keyNeedsAdded = definition.naturalKey.some((name) => added.has(name));
        expect(definition.catalogKey !== undefined, 'a catalog key exactly when the natural key has added fields').to.equal(keyNeedsAdded);
        for (const name of definition.catalogKey ?? []) expect(required.has(name), `catalog key field ${name} is required`).to.equal(true);
        expect(definition.subjectOptional).to.equal(subjectFields.some((name) => added.has(name)));
      });

      it('marks exactly the fields fields.md lists as [added]', () => {
        const added = definition.fields.filter((field) => field.added !== undefined);
        expect(added.map((field) => field.name)).to.have.members([...ADDED_FIELDS[id]]);
        for (const field of added) expect(field.added?.trim(), field.name).to.not.equal('');
      });

      if (!fixture) return;

      it('has enough fixtures: 3+ valid rows, 6+ invalid rows, optional fields both absent and present', () => {
        expect(fixture.valid.length).to.be.at.least(3);
        expect(fixture.invalid.length).to.be.at.least(6);
        const optional = definition.fields.filter((field) => !field.required).map((field) => field.name);
        for (const name of optional) {
          expect(fixture.valid.some((row) => name in row), `some valid row has ${name}`).to.equal(true);
        }
        if (optional.length > 0) {
          expect(fixture.valid.some((row) => optional.some((name) => !(name in row))), 'some valid row omits an optional field').to.equal(true);
        }
        const reasons = fixture.invalid.flatMap((invalid) => invalid.errors.map((error) => error.reason));
        expect(reasons).to.include('is required');
        expect(reasons).to.include('is not a field of this dataset');
        expect(reasons).to.include('must be a valid uscc');
        const yuan = fieldsOfKind(definition, 'yuan');
        if (yuan.length > 0) {
          const amounts = fixture.valid.flatMap((row) => yuan.filter((name) => name in row).map((name) => row[name]));
          expect(amounts.some((amount) => typeof amount === 'string'), 'an amount as a string').to.equal(true);
          expect(amounts.some((amount) => typeof amount === 'number'), 'an amount as a number').to.equal(true);
          expect(reasons.filter((reason) => reason.startsWith('must be an amount in yuan')).length).to.be.at.least(2);
        }
      });

      fixture.valid.forEach((original, index) => {
        it(`accepts valid row ${index + 1} and normalises amounts to fen and flags to booleans`, () => {
          const row = structuredClone(original);
          expect(registry.validate(id, row, index + 1)).to.deep.equal([]);
          for (const name of fieldsOfKind(definition, 'yuan')) {
            if (!(name in original)) continue;
            expect(row[name], name).to.be.a('number');
            expect(Number.isSafeInteger(row[name]), name).to.equal(true);
            expect(row[name], name).to.equal(expectedFen(original[name]));
          }
          for (const name of fieldsOfKind(definition, 'flag')) {
            if (!(name in original)) continue;
            const expected = TRUE_FLAGS.includes(original[name]) ? true : FALSE_FLAGS.includes(original[name]) ? false : undefined;
            expect(expected, `${name} fixture value is a flag`).to.not.equal(undefined);
            expect(row[name], name).to.equal(expected);
          }
        });
      });

      for (const invalid of fixture.invalid) {
        it(`rejects: ${invalid.why}`, () => {
          expect(invalid.errors.length, 'the fixture names its expected errors').to.be.greaterThan(0);
          const errors = registry.validate(id, structuredClone(invalid.row), 7);
          expect(errors.length).to.be.greaterThan(0);
          for (const error of errors) expect(error.row).to.equal(7);
          for (const wanted of invalid.errors) {
            const found = errors.some((error) => error.field === wanted.field && error.reason.includes(wanted.reason));
            expect(found, `${wanted.field} ${wanted.reason} in ${JSON.stringify(errors)}`).to.equal(true);
          }
        });
      }
    });
  }
});
