// Pins the synthetic demo population: deterministic, valid against the field spec (fields.md), unique natural keys,
// valid and unique identifiers, plausible shares, and datasets that agree with each other and with the profiles.
import { expect } from 'chai';
import { demoEnterprise, demoPopulation } from '../../gateway/demo/population.js';
import type { DatasetId, DemoOptions, DemoRow } from '../../gateway/demo/population.js';
import { isValidResidentId, isValidUscc } from '../../gateway/identifiers/index.js';

type Kind =
  | 'name' | 'text' | 'code' | 'uscc' | 'id_type' | 'id_number' | 'yuan' | 'flag' | 'month' | 'date' | 'count'
  | 'rate' | 'quantity' | 'parcels' | readonly string[];

interface Spec {
  /** Every allowed field and its type; required ones are listed in `required`. */
  fields: Record<string, Kind>;
  required: readonly string[];
  key: readonly string[];
  /** The (id type field, id number field) pair, or the uscc field for USCC-subject datasets. */
  subject: readonly [string, string] | string;
}

const ENTERPRISE = { enterprise_name: 'name', uscc: 'uscc' } as const;
const METERED: Spec = {
  fields: {
    ...ENTERPRISE, account_number: 'code', account_opening_date: 'date', service_address: 'text', prepaid_amount: 'yuan',
    arrears_amount: 'yuan', one_meter_per_household: 'flag',
  },
  required: ['enterprise_name', 'uscc', 'account_number', 'account_opening_date', 'service_address', 'prepaid_amount',
    'arrears_amount', 'one_meter_per_household'],
  key: ['uscc', 'account_number'],
  subject: 'uscc',
};

// Transcribed from the dataset field spec (fields.md).
const SPECS: Record<DatasetId, Spec> = {
  medical_insurance_payments: {
    fields: {
      ...ENTERPRISE, contribution_month: 'month', insured_headcount: 'count', employer_contribution_amount: 'yuan',
      payment_date: 'date', latest_normal_payment_month: 'month', deferred_amount: 'yuan', deferral_date: 'date',
    },
    required: ['enterprise_name', 'uscc', 'contribution_month', 'insured_headcount', 'employer_contribution_amount'],
    key: ['uscc', 'contribution_month'],
    subject: 'uscc',
  },
  medical_insurance_arrears: {
    fields: { ...ENTERPRISE, arrears_period: 'month', arrears_amount: 'yuan' },
    required: ['enterprise_name', 'uscc', 'arrears_period', 'arrears_amount'],
    key: ['uscc', 'arrears_period'],
    subject: 'uscc',
  },
  medical_insurance_changes: {
    fields: { ...ENTERPRISE, month: 'month', headcount_change_rate: 'rate', contribution_change_rate: 'rate' },
    required: ['enterprise_name', 'uscc', 'month', 'headcount_change_rate', 'contribution_change_rate'],
    key: ['uscc', 'month'],
    subject: 'uscc',
  },
  private_medical_institutions: {
    fields: { ...ENTERPRISE, drug_trading_licence: 'code' },
    required: ['enterprise_name', 'uscc'],
    key: ['uscc'],
    subject: 'uscc',
  },
  agri_insurance: {
    fields: {
      entity_name: 'name', id_type: 'id_type', id_number: 'id_number', insured: 'flag', insurance_type: 'text',
      insured_scale: 'quantity', sum_insured: 'yuan', policy_start_date: 'date', policy_end_date: 'date',
      claim_count: 'count', claim_amount: 'yuan', last_claim_date: 'date',
    },
    required: ['entity_name', 'id_type', 'id_number', 'insured', 'insurance_type', 'policy_start_date', 'policy_end_date'],
    key: ['id_type', 'id_number', 'insurance_type', 'policy_start_date'],
    subject: ['id_type', 'id_number'],
  },
  agri_subsidies: {
    fields: {
      entity_name: 'name', id_type: 'id_type', id_number: 'id_number', subsidy_type: 'text', subsidy_amount: 'yuan',
      grant_date: 'date',
    },
    required: ['entity_name', 'id_type', 'id_number', 'subsidy_type', 'subsidy_amount', 'grant_date'],
    key: ['id_type', 'id_number', 'subsidy_type', 'grant_date'],
    subject: ['id_type', 'id_number'],
  },
  large_growers: {
    fields: { grower_name: 'name', id_type: 'id_type', id_number: 'id_number', address: 'text' },
    required: ['grower_name', 'id_type', 'id_number', 'address'],
    key: ['id_type', 'id_number'],
    subject: ['id_type', 'id_number'],
  },
  agri_entities: {
    fields: {
      entity_name: 'name', person_in_charge: 'name', id_type: 'id_type', id_number: 'id_number',
      category: ['family_farm', 'cooperative', 'agri_enterprise', 'large_grower', 'service_organization'],
      location: 'text', business_scope: 'text', land_parcel_codes: 'parcels', farming_type: 'text',
      farming_scale: 'quantity', farming_scale_unit: ['mu', 'head'],
    },
    required: ['entity_name', 'person_in_charge', 'id_type', 'id_number', 'category', 'location'],
    key: ['id_type', 'id_number'],
    subject: ['id_type', 'id_number'],
  },
  land_transfers: {
    fields: {
      transferor_name: 'name', transferee_name: 'name', transferee_id_type: 'id_type', transferee_id_number: 'id_number',
      transfer_fee: 'yuan', land_area_mu: 'quantity', parcel_code: 'code', transfer_start_date: 'date',
      transfer_end_date: 'date',
    },
    required: ['transferor_name', 'transferee_name', 'transferee_id_type', 'transferee_id_number', 'transfer_fee',
      'land_area_mu', 'parcel_code', 'transfer_start_date'],
    key: ['parcel_code', 'transferee_id_type', 'transferee_id_number', 'transfer_start_date'],
    subject: ['transferee_id_type', 'transferee_id_number'],
  },
  water_accounts: METERED,
  electricity_accounts: {
    fields: {
      ...ENTERPRISE, account_number: 'code', service_address: 'text', operating_capacity_kva: 'quantity',
      first_supply_date: 'date', account_status: ['normal', 'suspended', 'closed'], arrears_amount: 'yuan',
      breach_count_24m: 'count',
    },
    required: ['enterprise_name', 'uscc', 'account_number', 'service_address', 'operating_capacity_kva',
      'first_supply_date', 'account_status', 'arrears_amount', 'breach_count_24m'],
    key: ['uscc', 'account_number'],
    subject: 'uscc',
  },
  gas_accounts: METERED,
};

const DEPENDENT_REQUIRED: Partial<Record<DatasetId, Record<string, string>>> = {
  medical_insurance_payments: { deferred_amount: 'deferral_date' },
  agri_entities: { farming_scale: 'farming_scale_unit' },
};
const NOT_BEFORE: Partial<Record<DatasetId, readonly [string, string]>> = {
  agri_insurance: ['policy_end_date', 'policy_start_date'],
  land_transfers: ['transfer_end_date', 'transfer_start_date'],
};

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const YUAN = /^\d+\.\d{2}$/;
const CODE = /^[0-9A-Za-z\u4e00-\u9fff_./-]{1,64}$/;
const PARCELS = /^[0-9A-Za-z_-]{1,40}(;[0-9A-Za-z_-]{1,40}){0,499}$/;

function isRealDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

function fieldError(kind: Kind, value: string | number | boolean): string | undefined {
  const isString = typeof value === 'string';
  const isNumber = typeof value === 'number' && Number.isFinite(value);
  if (typeof kind !== 'string') return kind.includes(String(value)) ? undefined : 'not in enum';
  switch (kind) {
    case 'name':
      return isString && value.length >= 1 && value.length <= 200 ? undefined : 'bad name';
    case 'text':
      return isString && value.length >= 1 && value.length <= 500 ? undefined : 'bad text';
    case 'code':
      return isString && CODE.test(value) ? undefined : 'bad code';
    case 'uscc':
      return isString && isValidUscc(value) ? undefined : 'invalid USCC';
    case 'id_type':
      return value === 'uscc' || value === 'resident_id' ? undefined : 'bad id_type';
    case 'id_number':
      return isString && value.length === 18 ? undefined : 'bad id_number';
    case 'yuan':
      return isString && YUAN.test(value) ? undefined : 'amount is not a two-decimal yuan string';
    case 'flag':
      return typeof value === 'boolean' ? undefined : 'flag is not a boolean';
    case 'month':
      return isString && MONTH.test(value) ? undefined : 'bad month';
    case 'date':
      return isString && isRealDate(value) ? undefined : 'bad date';
    case 'count':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 10_000_000 ? undefined : 'bad count';
    case 'rate':
      return isNumber && value >= -1 && value <= 100 ? undefined : 'bad rate';
    case 'quantity':
      return isNumber && value >= 0 && value <= 100_000_000 ? undefined : 'bad quantity';
    case 'parcels':
      return isString && PARCELS.test(value) ? undefined : 'bad parcel list';
  }
}

/** Everything wrong with a row under the spec, as readable strings (empty when valid). */
function rowErrors(dataset: DatasetId, row: DemoRow): string[] {
  const spec = SPECS[dataset];
  const errors: string[] = [];
  for (const field of spec.required) if (!(field in row)) errors.push(`${field}: missing`);
  for (const [field, value] of Object.entries(row)) {
    const kind = spec.fields[field];
    if (kind === undefined) {
      errors.push(`${field}: not a field of ${dataset}`);
      continue;
    }
    const error = fieldError(kind, value);
    if (error !== undefined) errors.push(`${field}: ${error} (${JSON.stringify(value)})`);
  }
  for (const [field, needs] of Object.entries(DEPENDENT_REQUIRED[dataset] ?? {})) {
    if (field in row && !(needs in row)) errors.push(`${field} without ${needs}`);
  }
  const order = NOT_BEFORE[dataset];
  if (order && order[0] in row && String(row[order[0]]) < String(row[order[1]])) errors.push(`${order[0]} before ${order[1]}`);
  if (typeof spec.subject === 'string') {
    if (!isValidUscc(String(row[spec.subject]))) errors.push('subject is not a valid USCC');
  } else {
    const [typeField, numberField] = spec.subject;
    const id = String(row[numberField]);
    const valid = row[typeField] === 'uscc' ? isValidUscc(id) : isValidResidentId(id);
    if (!valid) errors.push(`${numberField} is not a valid ${String(row[typeField])}`);
  }
  if (dataset === 'land_transfers' && !((row.land_area_mu as number) > 0)) errors.push('land_area_mu must be > 0');
  return errors;
}

type Population = Map<DatasetId, DemoRow[]>;

function materialise(options: DemoOptions): Population {
  return new Map(demoPopulation(options).map(({ dataset, rows }) => [dataset, [...rows()]]));
}

function rowsOf(population: Population, dataset: DatasetId): DemoRow[] {
  return population.get(dataset) ?? [];
}

function share(count: number, total: number): number {
  return count / total;
}

const ALL_DATASETS: readonly DatasetId[] = [
  'medical_insurance_payments', 'medical_insurance_arrears', 'medical_insurance_changes', 'private_medical_institutions',
  'agri_insurance', 'agri_subsidies', 'large_growers', 'agri_entities', 'land_transfers', 'water_accounts',
  'electricity_accounts', 'gas_accounts',
];

describe('demo population', () => {
  const small: DemoOptions = { enterprises: 300, seed: 42, asOf: '2025-03-10' };
  const large: DemoOptions = { enterprises: 2000, seed: 7, asOf: '2024-11-20' };
  let smallPopulation: Population;
  let largePopulation: Population;

  before(() => {
    smallPopulation = materialise(small);
    largePopulation = materialise(large);
  });

  it('lists the twelve datasets in catalog order', () => {
    expect(demoPopulation(small).map((entry) => entry.dataset)).to.deep.equal(ALL_DATASETS);
  });

  it('is deterministic: the same options give byte-identical rows, another seed different ones', () => {
    const again = materialise(small);
    for (const dataset of ALL_DATASETS) {
      expect(JSON.stringify(rowsOf(again, dataset)), dataset).to.equal(JSON.stringify(rowsOf(smallPopulation, dataset)));
    }
    // rows() can be iterated again and gives the same rows.
    const payments = demoPopulation(small)[0]!;
    expect(JSON.stringify([...payments.rows()])).to.equal(JSON.stringify([...payments.rows()]));
    const other = materialise({ ...small, seed: 43 });
    expect(JSON.stringify(rowsOf(other, 'medical_insurance_payments'))).to.not.equal(
      JSON.stringify(rowsOf(smallPopulation, 'medical_insurance_payments')),
    );
    expect(demoEnterprise(small, 17)).to.deep.equal(demoEnterprise(small, 17));
  });

  it('produces rows every dataset has, valid against the field spec', () => {
    for (const dataset of ALL_DATASETS) {
      const rows = rowsOf(smallPopulation, dataset);
      expect(rows.length, `${dataset} has rows`).to.be.greaterThan(0);
      for (const row of rows) expect(rowErrors(dataset, row), `${dataset} ${JSON.stringify(row)}`).to.deep.equal([]);
    }
  });

  it('keeps natural keys unique within each dataset', () => {
    for (const population of [smallPopulation, largePopulation]) {
      for (const dataset of ALL_DATASETS) {
        const keys = rowsOf(population, dataset).map((row) => SPECS[dataset].key.map((field) => String(row[field])).join('|'));
        expect(new Set(keys).size, dataset).to.equal(keys.length);
      }
    }
  });

  it('gives every enterprise a valid, unique USCC and every individual grower a valid, unique resident ID', () => {
    const usccs = new Set<string>();
    for (let i = 0; i < large.enterprises; i++) {
      const { uscc, name } = demoEnterprise(large, i);
      expect(isValidUscc(uscc), uscc).to.equal(true);
      expect(uscc).to.match(/^9[123]3701\d{2}/);
      expect(name).to.match(/^(济南|山东)/);
      usccs.add(uscc);
    }
    expect(usccs.size).to.equal(large.enterprises);

    const residentIds = rowsOf(largePopulation, 'agri_entities')
      .filter((row) => row.id_type === 'resident_id')
      .map((row) => String(row.id_number));
    expect(residentIds.length).to.be.greaterThan(20);
    expect(new Set(residentIds).size).to.equal(residentIds.length);
    for (const id of residentIds) {
      expect(isValidResidentId(id), id).to.equal(true);
      expect(id).to.match(/^3701\d{2}(19[6-8]\d|199[0-5])/);
    }
  });

  it('covers exactly the 24 months before asOf for every enterprise in 1a', () => {
    const expected: string[] = [];
    for (let m = 0; m < 24; m++) {
      const d = new Date(Date.UTC(2025, 2 - 24 + m, 1)); // asOf 2025-03-10: 2023-03 .. 2025-02
      expected.push(d.toISOString().slice(0, 7));
    }
    expect(expected[0]).to.equal('2023-03');
    expect(expected[23]).to.equal('2025-02');
    const byEnterprise = new Map<string, string[]>();
    for (const row of rowsOf(smallPopulation, 'medical_insurance_payments')) {
      const months = byEnterprise.get(String(row.uscc)) ?? [];
      months.push(String(row.contribution_month));
      byEnterprise.set(String(row.uscc), months);
    }
    expect(byEnterprise.size).to.equal(small.enterprises);
    for (const months of byEnterprise.values()) expect(months).to.deep.equal(expected);
    for (const row of rowsOf(smallPopulation, 'medical_insurance_payments')) {
      if (row.payment_date !== undefined) expect(String(row.payment_date) <= small.asOf).to.equal(true);
    }
  });

  it('has plausible shares over 2,000 enterprises', () => {
    const n = large.enterprises;
    const distinct = (dataset: DatasetId, field: string, keep: (row: DemoRow) => boolean = () => true): number =>
      new Set(rowsOf(largePopulation, dataset).filter(keep).map((row) => String(row[field]))).size;
    const inRange = (label: string, value: number, lo: number, hi: number): void => {
      expect(value, label).to.be.within(lo, hi);
    };
    inRange('arrears', share(distinct('medical_insurance_arrears', 'uscc', (r) => r.arrears_amount !== '0.00'), n), 0.03, 0.15);
    inRange('deferral', share(distinct('medical_insurance_payments', 'uscc', (r) => 'deferred_amount' in r), n), 0.02, 0.09);
    inRange('private medical', share(rowsOf(largePopulation, 'private_medical_institutions').length, n), 0.01, 0.06);
    inRange('agri', share(rowsOf(largePopulation, 'agri_entities').length, n), 0.08, 0.16);
    inRange('water', share(distinct('water_accounts', 'uscc'), n), 0.85, 0.95);
    inRange('electricity', share(distinct('electricity_accounts', 'uscc'), n), 0.91, 0.98);
    inRange('gas', share(distinct('gas_accounts', 'uscc'), n), 0.53, 0.67);
    inRange('water arrears', share(distinct('water_accounts', 'uscc', (r) => r.arrears_amount !== '0.00'), n), 0.03, 0.1);
    inRange('power arrears', share(distinct('electricity_accounts', 'uscc', (r) => r.arrears_amount !== '0.00'), n), 0.02, 0.07);
    inRange('suspended', share(distinct('electricity_accounts', 'uscc', (r) => r.account_status === 'suspended'), n), 0.005, 0.04);
    const profiles = Array.from({ length: n }, (_, i) => demoEnterprise(large, i).profile);
    inRange('headcount drop', share(profiles.filter((p) => p.includes('headcount_drop')).length, n), 0.05, 0.15);

    const licensed = rowsOf(largePopulation, 'private_medical_institutions').filter((r) => 'drug_trading_licence' in r);
    inRange('licensed', share(licensed.length, rowsOf(largePopulation, 'private_medical_institutions').length), 0.6, 0.95);
    for (const row of licensed) expect(row.drug_trading_licence).to.match(/^鲁[A-D][AB]\d{7}$/);
    const meters = rowsOf(largePopulation, 'water_accounts');
    inRange('one meter', share(meters.filter((r) => r.one_meter_per_household === true).length, meters.length), 0.85, 0.98);
    const breaches = rowsOf(largePopulation, 'electricity_accounts').map((r) => r.breach_count_24m as number);
    inRange('no breaches', share(breaches.filter((b) => b === 0).length, breaches.length), 0.8, 0.92);
    expect(Math.max(...breaches)).to.be.greaterThan(2);
    const entities = rowsOf(largePopulation, 'agri_entities');
    const byUscc = entities.filter((r) => r.id_type === 'uscc').length;
    expect(byUscc, 'agri entities filed by USCC').to.be.within(entities.length * 0.35, entities.length * 0.75);
    const lapsed = profiles.filter((p) => p.includes('agri_insurance_lapsed')).length;
    expect(lapsed, 'lapsed agri insurance').to.be.greaterThan(0);
  });

  it('agrees with the profiles and across the medical-insurance datasets', () => {
    const asOf = large.asOf;
    const payments = new Map<string, DemoRow[]>();
    for (const row of rowsOf(largePopulation, 'medical_insurance_payments')) {
      const list = payments.get(String(row.uscc)) ?? [];
      list.push(row);
      payments.set(String(row.uscc), list);
    }
    const outstanding = new Set<string>();
    for (const row of rowsOf(largePopulation, 'medical_insurance_arrears')) {
      const month = (payments.get(String(row.uscc)) ?? []).find((p) => p.contribution_month === row.arrears_period);
      expect(month, 'arrears period is a 1a month').to.not.equal(undefined);
      if (row.arrears_amount === '0.00') {
        expect(month!.payment_date, 'a settled period was paid').to.be.a('string');
      } else {
        outstanding.add(String(row.uscc));
        expect(month!.payment_date, 'an arrears period is unpaid').to.equal(undefined);
        expect(row.arrears_amount).to.equal(month!.employer_contribution_amount);
        expect(String(row.arrears_period) < asOf.slice(0, 7)).to.equal(true);
      }
    }

    // The last full quarter before 2024-11-20 is 2024-07..09; its baseline is 2024-06.
    const quarter = ['2024-07', '2024-08', '2024-09'];
    const changes = new Map<string, DemoRow[]>();
    for (const row of rowsOf(largePopulation, 'medical_insurance_changes')) {
      const list = changes.get(String(row.uscc)) ?? [];
      list.push(row);
      changes.set(String(row.uscc), list);
    }
    for (let i = 0; i < large.enterprises; i++) {
      const { uscc, name, profile } = demoEnterprise(large, i);
      const months = payments.get(uscc)!;
      expect(months[0]!.enterprise_name).to.equal(name);
      expect(outstanding.has(uscc), `${i} arrears`).to.equal(profile.includes('arrears'));
      expect(months.some((m) => 'deferred_amount' in m), `${i} deferral`).to.equal(profile.includes('deferral'));

      const headcount = (month: string): number => months.find((m) => m.contribution_month === month)!.insured_headcount as number;
      const fen = (month: string): number =>
        Math.round(Number(months.find((m) => m.contribution_month === month)!.employer_contribution_amount) * 100);
      const dropped = headcount('2024-09') < 0.8 * headcount('2024-06');
      expect(dropped, `${i} headcount drop`).to.equal(profile.includes('headcount_drop'));

      const rows = changes.get(uscc)!;
      expect(rows.map((r) => r.month)).to.deep.equal(quarter);
      for (const row of rows) {
        const month = String(row.month);
        const previous = quarter.indexOf(month) === 0 ? '2024-06' : quarter[quarter.indexOf(month) - 1]!;
        const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
        const rate = (now: number, before: number): number => round4((now - before) / before);
        expect(row.headcount_change_rate).to.be.closeTo(rate(headcount(month), headcount(previous)), 1e-9);
        expect(row.contribution_change_rate).to.be.closeTo(rate(fen(month), fen(previous)), 1e-9);
      }
    }
  });

  it('agrees across the agricultural datasets', () => {
    const entities = new Map(
      rowsOf(largePopulation, 'agri_entities').map((row) => [`${String(row.id_type)}|${String(row.id_number)}`, row]),
    );
    const agriProfiles = Array.from({ length: large.enterprises }, (_, i) => demoEnterprise(large, i)).filter((e) =>
      e.profile.includes('agri'),
    );
    expect(agriProfiles.length).to.equal(entities.size);
    for (const row of entities.values()) {
      if (row.id_type === 'uscc') expect(agriProfiles.some((e) => e.uscc === row.id_number)).to.equal(true);
    }
    for (const dataset of ['agri_insurance', 'agri_subsidies', 'large_growers'] as const) {
      for (const row of rowsOf(largePopulation, dataset)) {
        expect(entities.has(`${String(row.id_type)}|${String(row.id_number)}`), dataset).to.equal(true);
      }
    }
    for (const row of rowsOf(largePopulation, 'land_transfers')) {
      const entity = entities.get(`${String(row.transferee_id_type)}|${String(row.transferee_id_number)}`);
      expect(entity, 'transferee is an agri entity').to.not.equal(undefined);
      expect(String(entity!.land_parcel_codes).split(';')).to.include(row.parcel_code);
      expect(row.parcel_code).to.match(/^3701\d{2}-\d{4}-\d{3}$/);
      expect(String(row.transfer_start_date) <= large.asOf).to.equal(true);
    }
    const windowStart = '2021-11-20';
    for (const row of rowsOf(largePopulation, 'agri_subsidies')) {
      expect(String(row.grant_date) >= windowStart && String(row.grant_date) <= large.asOf, 'grant in last 3 years').to.equal(true);
    }
    for (const row of rowsOf(largePopulation, 'agri_insurance')) {
      if (row.insured === true) {
        expect(row.sum_insured, 'insured rows carry cover').to.be.a('string');
        if ((row.claim_count as number) > 0) expect(String(row.last_claim_date) <= large.asOf).to.equal(true);
      }
    }
    const claims = rowsOf(largePopulation, 'agri_insurance').filter((row) => (row.claim_count as number) > 0);
    expect(claims.length).to.be.greaterThan(0);
  });

  it('generates 1a rows fast (a loose bound; the CLI needs millions)', () => {
    const options: DemoOptions = { enterprises: 2000, seed: 1, asOf: '2025-06-30' };
    const started = process.hrtime.bigint();
    let rows = 0;
    for (const _row of demoPopulation(options)[0]!.rows()) rows++;
    const micros = Number(process.hrtime.bigint() - started) / 1000;
    expect(rows).to.equal(48_000);
    expect(micros / rows, 'µs per row').to.be.below(25);
  });

  it('rejects bad options and out-of-range indexes', () => {
    expect(() => demoPopulation({ enterprises: -1, seed: 1, asOf: '2025-01-01' })).to.throw(RangeError);
    expect(() => demoPopulation({ enterprises: 10, seed: 1.5, asOf: '2025-01-01' })).to.throw(RangeError);
    expect(() => demoPopulation({ enterprises: 10, seed: 1, asOf: '2025-02-30' })).to.throw(RangeError);
    expect(() => demoPopulation({ enterprises: 10, seed: 1, asOf: '20250101' })).to.throw(RangeError);
    expect(() => demoEnterprise({ enterprises: 10, seed: 1, asOf: '2025-01-01' }, 10)).to.throw(RangeError);
    expect(demoPopulation({ enterprises: 0, seed: 1, asOf: '2025-01-01' }).every(({ rows }) => [...rows()].length === 0)).to.equal(true);
  });
});
