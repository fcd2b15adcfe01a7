// The question catalog: the real catalog loads and every fixture case gives its expected answer; broken catalogs
// are refused with an error naming the file and the fault; definition hashes; `unknown` without records.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { sha256Hex } from '../../gateway/crypto/index.js';
import { datasetIds, loadDatasetRegistry } from '../../gateway/datasets/registry.js';
import type { NormalisedRecord } from '../../gateway/datasets/registry.js';
import { demoPopulation } from '../../gateway/demo/population.js';
import { GatewayError } from '../../gateway/errors/index.js';
import {
  PURPOSES, UNKNOWN, evaluate, fixtureInput, hashDefinition, loadQuestionCatalog, loadQuestionFixtures, policiesDir,
} from '../../gateway/policies/index.js';
import type { Answer, EvaluationRecord, QuestionDefinition } from '../../gateway/policies/index.js';

const registry = loadDatasetRegistry();
const catalog = loadQuestionCatalog(policiesDir, registry);
const fixtures = loadQuestionFixtures();

describe('question catalog', () => {
  describe('the catalog in policies/', () => {
    it('has at least 25 questions and reads all twelve datasets', () => {
      expect(catalog.questions.length).to.be.at.least(25);
      const read = new Set(catalog.questions.flatMap((question) => question.datasets));
      expect([...read].sort()).to.deep.equal([...datasetIds].sort());
    });

    it('has one fixture file per question, for the question\'s current version', () => {
      expect(fixtures.map((fixture) => fixture.question)).to.deep.equal(catalog.questions.map((question) => question.id));
      for (const fixture of fixtures) expect(fixture.version, fixture.file).to.equal(catalog.get(fixture.question).version);
    });

    it('has fixtures for unknown and for every answer each question can give', () => {
      for (const fixture of fixtures) {
        const question = catalog.get(fixture.question);
        const expected = new Set(fixture.cases.map((fixtureCase) => fixtureCase.expect.answer));
        const answers = question.answer.type === 'boolean' ? [true, false] : question.answer.values;
        for (const answer of [UNKNOWN, ...answers]) expect(expected.has(answer), `${fixture.file}: ${String(answer)}`).to.equal(true);
        expect(fixture.cases.some((fixtureCase) => fixtureCase.expect.stale === true), `${fixture.file}: a stale case`).to.equal(true);
      }
    });

    it('lets every question be asked before a loan is made, and keeps customer screening to the screening pack', () => {
      const screening = catalog.resolve(['screening_basics']);
      for (const question of catalog.questions) {
        expect(catalog.allowsPurpose(question.id, 'pre_loan_investigation'), question.id).to.equal(true);
        expect(catalog.allowsPurpose(question.id, 'loan_approval'), question.id).to.equal(true);
        expect(catalog.allowsPurpose(question.id, 'customer_screening'), question.id).to.equal(screening.includes(question.id));
      }
      for (const id of catalog.resolve(['risk_monitoring'])) expect(catalog.allowsPurpose(id, 'post_loan_management'), id).to.equal(true);
    });

    it('puts every question in the pack of its datasets\' theme', () => {
      const themed = catalog.resolve(['social_insurance', 'agriculture', 'utilities']);
      expect([...themed].sort()).to.deep.equal(catalog.questions.map((question) => question.id));
    });

    it('resolves a consent\'s list of packs and questions to question ids, without repeats', () => {
      const ids = catalog.resolve(['medical_arrears_now', 'screening_basics', 'water_arrears_now']);
      expect(ids[0]).to.equal('medical_arrears_now');
      expect(ids).to.include('agri_large_grower');
      expect(new Set(ids).size).to.equal(ids.length);
      expect(() => catalog.resolve(['no_such_pack'])).to.throw(GatewayError, /no_such_pack/).with.property('code', 'invalid_argument');
    });

    it('answers allowsPurpose false for an unknown question or purpose, and get throws not_found', () => {
      expect(catalog.allowsPurpose('medical_arrears_now', 'marketing')).to.equal(false);
      expect(catalog.allowsPurpose('no_such_question', PURPOSES[0])).to.equal(false);
      expect(() => catalog.get('no_such_question')).to.throw(GatewayError).with.property('code', 'not_found');
      expect(catalog.packsOf('medical_arrears_now')).to.deep.equal(['social_insurance', 'risk_monitoring', 'screening_basics']);
    });
  });

  describe('fixtures (policies/fixtures/)', () => {
    for (const fixture of fixtures) {
      describe(`${fixture.question} v${fixture.version}`, () => {
        for (const fixtureCase of fixture.cases) {
          it(fixtureCase.name, () => {
            const question = catalog.get(fixture.question);
            const result = evaluate(question, fixtureInput(registry, fixture, fixtureCase));
            const { answer, stale, data_as_of: dataAsOf } = fixtureCase.expect;
            expect(result.answer, 'answer').to.equal(answer);
            expect(result.stale, 'stale').to.equal(stale ?? false);
            if (dataAsOf !== undefined) expect(result.dataAsOf, 'dataAsOf').to.equal(dataAsOf);
            if (answer === UNKNOWN && Object.keys(fixtureCase.records).length === 0) expect(result.dataAsOf).to.equal(undefined);
            expect(result.question).to.deep.equal({ id: question.id, version: question.version, definitionHash: question.definitionHash });
          });
        }
      });
    }
  });

  describe('refusing a broken catalog', () => {
    let dir: string;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-'));
      fs.cpSync(path.join(policiesDir, 'questions'), path.join(dir, 'questions'), { recursive: true });
      fs.copyFileSync(path.join(policiesDir, 'packs.json'), path.join(dir, 'packs.json'));
    });

    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const questionFile = (id: string, version = 1): string => path.join(dir, 'questions', `${id}.v${version}.json`);
    const read = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const write = (file: string, value: unknown): void => fs.writeFileSync(file, JSON.stringify(value, null, 2));
    /** Rewrites one question file through `change`. */
    const edit = (id: string, change: (definition: Record<string, unknown>) => void): string => {
      const file = questionFile(id);
      const definition = read(file);
      change(definition);
      write(file, definition);
      return file;
    };
    const editPacks = (change: (packs: Array<Record<string, unknown>>) => void): string => {
      const file = path.join(dir, 'packs.json');
      const parsed = read(file) as { packs: Array<Record<string, unknown>> };
      change(parsed.packs);
      write(file, parsed);
      return file;
    };
    const refusal = (...patterns: Array<string | RegExp>): void => {
      let caught: unknown;
      try {
        loadQuestionCatalog(dir, registry);
      } catch (error) {
        caught = error;
      }
      expect(caught, 'the catalog loaded').to.be.instanceOf(GatewayError);
      const error = caught as GatewayError;
      expect(error.code).to.equal('invalid_configuration');
      for (const pattern of patterns) {
        if (typeof pattern === 'string') expect(error.message).to.contain(pattern);
        else expect(error.message).to.match(pattern);
      }
    };

    it('loads the unchanged copy', () => {
      expect(loadQuestionCatalog(dir, registry).questions.length).to.equal(catalog.questions.length);
    });

    it('refuses a question file that is not JSON', () => {
      fs.writeFileSync(questionFile('water_arrears_now'), '{"id": "water_arrears_now",');
      refusal(questionFile('water_arrears_now'), 'not valid JSON');
    });

    it('refuses a question file missing a member', () => {
      const file = edit('water_arrears_now', (definition) => delete definition['purposes']);
      refusal(file, "must have required property 'purposes'");
    });

    it('refuses an unknown operator, naming where it is', () => {
      const file = edit('water_arrears_now', (definition) => {
        (definition['expression'] as { where: { op: string } }).where.op = 'greater';
      });
      refusal(file, '/expression/where', 'unknown op "greater"');
    });

    it('refuses an unknown member', () => {
      const file = edit('water_arrears_now', (definition) => {
        definition['threshold'] = 0;
      });
      refusal(file, 'unknown member "threshold"');
    });

    it('refuses a reference to a field the dataset does not have', () => {
      const file = edit('water_arrears_now', (definition) => {
        (definition['expression'] as { where: { field: string } }).where.field = 'arrears_amt';
      });
      refusal(file, 'dataset water_accounts has no field "arrears_amt"');
    });

    it('refuses an unknown dataset', () => {
      const file = edit('water_arrears_now', (definition) => {
        definition['datasets'] = ['water_account'];
      });
      refusal(file, 'unknown dataset "water_account"');
    });

    it('refuses an expression reading a dataset the question does not list', () => {
      const file = edit('water_arrears_now', (definition) => {
        (definition['expression'] as { dataset: string }).dataset = 'gas_accounts';
      });
      refusal(file, 'dataset "gas_accounts" is not in the question\'s datasets');
    });

    it('refuses a listed dataset that nothing reads', () => {
      const file = edit('water_arrears_now', (definition) => {
        definition['datasets'] = ['water_accounts', 'gas_accounts'];
      });
      refusal(file, 'dataset "gas_accounts" is listed but neither');
    });

    it('refuses an amount compared with something that is not whole fen', () => {
      const file = edit('water_arrears_now', (definition) => {
        (definition['expression'] as { where: { value: unknown } }).where.value = 0.5;
      });
      refusal(file, 'water_accounts.arrears_amount is a whole number of fen; 0.5 is not');
    });

    it('refuses an amount compared with a date', () => {
      const file = edit('water_arrears_now', (definition) => {
        (definition['expression'] as { where: { value: unknown } }).where.value = { as_of: {} };
      });
      refusal(file, 'the as-of date cannot be compared with water_accounts.arrears_amount, a fen');
    });

    it('refuses an enum value the field does not have', () => {
      const file = edit('electricity_account_active', (definition) => {
        (definition['expression'] as { where: { value: unknown } }).where.value = 'active';
      });
      refusal(file, '"active" is not one of electricity_accounts.account_status\'s values normal, suspended, closed');
    });

    it('refuses ordering a field that has no order', () => {
      const file = edit('electricity_account_active', (definition) => {
        (definition['expression'] as { where: { op: string } }).where.op = 'gt';
      });
      refusal(file, '"gt" cannot order electricity_accounts.account_status');
    });

    it('refuses a window in days on a month field', () => {
      const file = edit('medical_arrears_24m', (definition) => {
        const where = (definition['expression'] as { where: Record<string, unknown> }).where;
        delete where['months'];
        where['days'] = 30;
        definition['parameters'] = {};
      });
      refusal(file, 'is a month; give the window in months');
    });

    it('refuses an unknown parameter and an unused one', () => {
      const unknown = edit('medical_arrears_24m', (definition) => {
        definition['parameters'] = { window: 24 };
      });
      refusal(unknown, 'unknown parameter "window_months"');
      edit('medical_arrears_24m', (definition) => {
        definition['parameters'] = { window_months: 24, spare: 1 };
      });
      refusal(unknown, 'parameter "spare" is never used');
    });

    it('refuses a band answer outside the declared values, and a declared value no band gives', () => {
      const file = edit('electricity_breach_band', (definition) => {
        (definition['expression'] as { otherwise: string }).otherwise = 'many';
      });
      refusal(file, '"many" is not one of the answer values');
      edit('electricity_breach_band', (definition) => {
        (definition['answer'] as { values: string[] }).values.push('never');
        (definition['expression'] as { otherwise: string }).otherwise = 'four_or_more';
      });
      refusal(file, 'answer value(s) never can never be answered');
    });

    it('refuses band bounds that do not ascend', () => {
      const file = edit('electricity_breach_band', (definition) => {
        definition['parameters'] = { once_at_most: 3, few_at_most: 1 };
      });
      refusal(file, 'band bounds must ascend');
    });

    it('refuses a file whose name does not match its id and version', () => {
      fs.renameSync(questionFile('water_arrears_now'), questionFile('water_arrears_now', 2));
      refusal(questionFile('water_arrears_now', 2), 'must be named water_arrears_now.v1.json');
    });

    it('refuses a duplicate id', () => {
      const copy = read(questionFile('water_arrears_now'));
      copy['version'] = 2;
      write(questionFile('water_arrears_now', 2), copy);
      refusal(questionFile('water_arrears_now', 2), 'question id "water_arrears_now" is already defined by', questionFile('water_arrears_now'));
    });

    it('refuses a pack naming a question that is not in the catalog', () => {
      const file = editPacks((packs) => (packs[0]!['questions'] as string[]).push('medical_arrears_36m'));
      refusal(file, 'pack "social_insurance" names question "medical_arrears_36m", which is not in the catalog');
    });

    it('refuses a pack meant for a purpose one of its questions does not allow', () => {
      const file = editPacks((packs) => (packs.find((pack) => pack.id === 'screening_basics')!['questions'] as string[]).push('medical_continuous_24m'));
      refusal(file, 'pack "screening_basics" is meant for customer_screening, which question "medical_continuous_24m" does not allow');
    });

    it('refuses a pack with the id of a question', () => {
      const file = editPacks((packs) => {
        packs[0]!['id'] = 'water_arrears_now';
      });
      refusal(file, 'pack "water_arrears_now" has the id of a question');
    });
  });

  describe('definition hashes', () => {
    const golden: QuestionDefinition = {
      id: 'golden',
      version: 1,
      title: { zh: '示例', en: 'Example' },
      description: { zh: '示例', en: 'Example' },
      datasets: ['water_accounts'],
      known_if_records_in: ['water_accounts'],
      parameters: {},
      answer: { type: 'boolean' },
      expression: { op: 'exists', dataset: 'water_accounts', where: { op: 'gt', field: 'arrears_amount', value: 0 } },
      purposes: ['loan_approval'],
      freshness: { max_age_days: 45 },
    };

    it('is the SHA-256 of the JCS form, whatever the member order', () => {
      const reordered = Object.fromEntries(Object.entries(golden).reverse()) as unknown as QuestionDefinition;
      expect(Object.keys(reordered)[0]).to.equal('freshness');
      expect(hashDefinition(reordered)).to.equal(hashDefinition(golden));
      expect(hashDefinition(golden)).to.equal(sha256Hex(canonicalize(golden)!));
      // Computed independently: sha256 of Python's json.dumps(sort_keys=True, separators=(',', ':'), ensure_ascii=False).
      expect(hashDefinition(golden)).to.equal('8d6f615737edf6cafe367d1c62d33c60ef5ac91d41bea2e431a10821515802a1');
    });

    it('is the same on every load and changes when the definition changes', () => {
      const again = loadQuestionCatalog(policiesDir, registry);
      for (const question of catalog.questions) {
        expect(again.definitionHash(question.id)).to.equal(catalog.definitionHash(question.id));
        expect(question.definitionHash).to.match(/^[0-9a-f]{64}$/);
      }
      expect(new Set(catalog.questions.map((question) => question.definitionHash)).size).to.equal(catalog.questions.length);
      expect(hashDefinition({ ...golden, parameters: {}, freshness: { max_age_days: 46 } })).to.not.equal(hashDefinition(golden));
      expect(hashDefinition({ ...golden, title: { zh: '示例', en: 'Example.' } })).to.not.equal(hashDefinition(golden));
    });

    it('goes into the answers of a changed question', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-'));
      try {
        fs.cpSync(path.join(policiesDir, 'questions'), path.join(dir, 'questions'), { recursive: true });
        fs.copyFileSync(path.join(policiesDir, 'packs.json'), path.join(dir, 'packs.json'));
        const file = path.join(dir, 'questions', 'medical_arrears_24m.v1.json');
        const definition = JSON.parse(fs.readFileSync(file, 'utf8')) as { parameters: { window_months: number } };
        definition.parameters.window_months = 36;
        fs.writeFileSync(file, JSON.stringify(definition));
        const changed = loadQuestionCatalog(dir, registry).get('medical_arrears_24m');
        const input = { asOf: '2025-06-15', records: {} };
        expect(evaluate(changed, input).question.definitionHash).to.equal(changed.definitionHash)
          .and.to.not.equal(catalog.definitionHash('medical_arrears_24m'));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('on the demo population', () => {
    const asOf = '2025-06-15';
    // Every demo subject's answer to every question, by question id.
    const answers = new Map<string, Answer[]>();
    before(() => {
      for (const records of demoSubjects(600, asOf)) {
        for (const question of catalog.questions) {
          const list = answers.get(question.id) ?? [];
          list.push(evaluate(question, { asOf, records }).answer);
          answers.set(question.id, list);
        }
      }
    });
    const of = (id: string): Answer[] => answers.get(id)!;

    it('gives every question an answer from its list, some known ones, and both yes and no for yes/no questions', () => {
      for (const question of catalog.questions) {
        const given = new Set(of(question.id));
        const allowed: Answer[] = question.answer.type === 'boolean' ? [true, false, UNKNOWN] : [...question.answer.values, UNKNOWN];
        for (const answer of given) expect(allowed, question.id).to.include(answer);
        if (question.answer.type === 'boolean') expect([given.has(true), given.has(false)], question.id).to.deep.equal([true, true]);
        else expect(given.size, question.id).to.be.at.least(3);
      }
    });

    it('answers consistently across related questions', () => {
      const implies = (a: string, b: string): void => {
        of(a).forEach((answer, subject) => {
          if (answer === true) expect(of(b)[subject], `${a} ⇒ ${b}`).to.equal(true);
        });
      };
      implies('medical_paid_normally_3m', 'medical_paid_normally_6m');
      implies('medical_continuous_24m', 'medical_continuous_12m');
      implies('medical_arrears_now', 'medical_arrears_24m');
      implies('private_medical_licensed', 'private_medical_designated');
      of('agri_land_transfer_in_force').forEach((answer, subject) => {
        const band = of('agri_land_transfer_area_band')[subject];
        expect(answer === UNKNOWN ? band === UNKNOWN : (answer === false) === (band === 'none')).to.equal(true);
      });
    });
  });

  describe('evaluate', () => {
    const record = (values: EvaluationRecord['values'], asOf = '2025-06-01'): EvaluationRecord => ({ values, asOf });
    const water = (arrearsFen: number): EvaluationRecord['values'] => ({
      enterprise_name: '示例', uscc: '91370102MA3M9XQ1L1', account_number: '1', account_opening_date: '2015-01-01',
      service_address: '示例', prepaid_amount: 0, arrears_amount: arrearsFen, one_meter_per_household: true,
    });

    it('answers unknown, not false, when the subject has no records in the dataset', () => {
      const question = catalog.get('water_arrears_now');
      for (const records of [{}, { water_accounts: undefined }, { water_accounts: [] }, { gas_accounts: [record({})] }]) {
        const result = evaluate(question, { asOf: '2025-06-15', records });
        expect(result).to.deep.equal({ answer: UNKNOWN, stale: false, question: question.ref });
      }
    });

    it('answers unknown for every question of the catalog without records', () => {
      for (const question of catalog.questions) {
        expect(evaluate(question, { asOf: '2025-06-15', records: {} }).answer, question.id).to.equal(UNKNOWN);
      }
    });

    it('reports the newest batch as-of date among the records read', () => {
      const question = catalog.get('water_arrears_now');
      const result = evaluate(question, {
        asOf: '2025-06-15',
        records: { water_accounts: [record(water(0), '2025-03-01'), record(water(100), '2025-05-31')] },
      });
      expect(result).to.deep.include({ answer: true, dataAsOf: '2025-05-31', stale: false });
    });

    it('takes the record reader\'s records as they are, and neither changes them nor depends on anything else', () => {
      const question = catalog.get('water_arrears_now');
      const opened = Object.freeze({
        recordId: 7, values: Object.freeze(water(100)), batchId: 'b1', source: 'water', asOf: '2025-06-01',
        receivedAt: '2025-06-01T08:00:00Z', supersededBy: undefined,
      });
      const input = Object.freeze({ asOf: '2025-06-15', records: Object.freeze({ water_accounts: Object.freeze([opened]) }) });
      const first = evaluate(question, input);
      expect(first.answer).to.equal(true);
      expect(evaluate(question, input)).to.deep.equal(first);
    });

    it('refuses an evaluation date that is not a date', () => {
      const question = catalog.get('water_arrears_now');
      for (const asOf of ['2025-02-30', '2025-6-15', 'yesterday']) {
        expect(() => evaluate(question, { asOf, records: {} }), asOf).to.throw(GatewayError).with.property('code', 'invalid_argument');
      }
    });

    it('does not throw on schema-valid records with optional fields absent, for any question', () => {
      const sparse = minimalRecords();
      for (const question of catalog.questions) {
        const result = evaluate(question, { asOf: '2025-06-15', records: sparse });
        const allowed: unknown[] = question.answer.type === 'boolean' ? [true, false, UNKNOWN] : [...question.answer.values, UNKNOWN];
        expect(allowed, question.id).to.include(result.answer);
      }
    });
  });
});

/** The demo population's records grouped by subject, each row validated and normalised by its dataset schema. */
function demoSubjects(enterprises: number, asOf: string): Array<Record<string, EvaluationRecord[]>> {
  const subjects = new Map<string, Record<string, EvaluationRecord[]>>();
  for (const { dataset, rows } of demoPopulation({ enterprises, seed: 7, asOf })) {
    const rule = registry.get(dataset).subject;
    let rowNumber = 0;
    for (const source of rows()) {
      const row: Record<string, unknown> = { ...source };
      expect(registry.validate(dataset, row, ++rowNumber)).to.deep.equal([]);
      const idType = 'idType' in rule ? rule.idType : String(row[rule.idTypeField]);
      const key = `${idType}:${String(row[rule.idNumberField])}`;
      const records = subjects.get(key) ?? {};
      (records[dataset] ??= []).push({ values: row as NormalisedRecord, asOf });
      subjects.set(key, records);
    }
  }
  return [...subjects.values()];
}

/** One record per dataset with only the required fields, each validated and normalised by its dataset schema. */
function minimalRecords(): Record<string, EvaluationRecord[]> {
  const fixture = { question: 'minimal', version: 1, cases: [], file: 'minimal' };
  const rows: Record<string, Array<Record<string, unknown>>> = {
    medical_insurance_payments: [{ contribution_month: '2025-05', insured_headcount: 0, employer_contribution_amount: '0' }],
    medical_insurance_arrears: [{ arrears_period: '2025-04', arrears_amount: '0' }],
    medical_insurance_changes: [{ month: '2025-03', headcount_change_rate: -1, contribution_change_rate: -1 }],
    private_medical_institutions: [{}],
    agri_insurance: [{ insured: false, insurance_type: '示例', policy_start_date: '2025-01-01', policy_end_date: '2025-01-01' }],
    agri_subsidies: [{ subsidy_type: '示例', subsidy_amount: '0', grant_date: '2025-01-01' }],
    large_growers: [{}],
    agri_entities: [{ category: 'service_organization' }],
    land_transfers: [{ transfer_fee: '0', land_area_mu: 0.1, transfer_start_date: '2025-01-01' }],
    water_accounts: [{ account_opening_date: '2025-01-01', prepaid_amount: '0', arrears_amount: '0', one_meter_per_household: false }],
    electricity_accounts: [{ operating_capacity_kva: 0, first_supply_date: '2025-01-01', account_status: 'closed', arrears_amount: '0', breach_count_24m: 0 }],
    gas_accounts: [{ account_opening_date: '2025-01-01', prepaid_amount: '0', arrears_amount: '0', one_meter_per_household: false }],
  };
  return fixtureInput(registry, fixture, { name: 'minimal', as_of: '2025-06-15', records: rows, expect: { answer: UNKNOWN } })
    .records as Record<string, EvaluationRecord[]>;
}
