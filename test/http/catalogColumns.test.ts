// Pins what a data source sees first, on a real gateway (127.0.0.1, port 0): a batch with exactly the columns of the
// plan's sharing list (信用信息归集共享清单) — every field of the dataset's schema but the ones marked x-added — is
// accepted for all twelve datasets, with English and with Chinese headers; rows without an added key field are keyed
// by the catalog fields (two accounts of one enterprise at two addresses stay two records); and a question that needs
// an added field answers unknown for a subject whose record lacks it, where the same record with the field answers.
import { expect } from 'chai';
import { demoPopulation } from '../../gateway/demo/population.js';
import type { DemoRow } from '../../gateway/demo/population.js';
import { datasetIds, loadDatasetRegistry } from '../../gateway/datasets/registry.js';
import type { DatasetDefinition } from '../../gateway/datasets/registry.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';

const registry = loadDatasetRegistry();
const ROWS_PER_DATASET = 40;

function catalogFields(dataset: DatasetDefinition) {
  return dataset.fields.filter((field) => !field.added);
}

function csvCell(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as CSV with only the catalog's columns, headed by the English field names or the Chinese titles. */
function catalogCsv(dataset: DatasetDefinition, rows: readonly DemoRow[], headers: 'en' | 'zh'): string {
  const fields = catalogFields(dataset);
  const header = fields.map((field) => (headers === 'en' ? field.name : field.titleZh)).join(',');
  return `${header}\n${rows.map((row) => fields.map((field) => csvCell(row[field.name])).join(',')).join('\n')}\n`;
}

/** Demo rows of a dataset, the first of each catalog key only (a catalog-only file cannot tell more apart). */
function sampleRows(dataset: DatasetDefinition): DemoRow[] {
  const generated = demoPopulation({ enterprises: 600, seed: 12, asOf: todayInShanghai() }).find((entry) => entry.dataset === dataset.id);
  const key = dataset.catalogKey ?? dataset.naturalKey;
  const seen = new Set<string>();
  const rows: DemoRow[] = [];
  for (const row of generated!.rows()) {
    const id = key.map((field) => String(row[field])).join('\u001f');
    if (seen.has(id)) continue;
    seen.add(id);
    rows.push(row);
    if (rows.length === ROWS_PER_DATASET) break;
  }
  return rows;
}

describe('a batch with exactly the catalog\'s columns', function () {
  let gateway: TestGateway;
  let source: EnrolledParticipant;

  before(async function () {
    gateway = await startTestGateway();
    source = await gateway.enrol('source', { datasets: [...datasetIds] });
  });

  after(async function () {
    await gateway?.stop();
  });

  it('covers the twelve datasets, several of which have added fields', function () {
    expect(registry.datasets.map((dataset) => dataset.id)).to.deep.equal([...datasetIds]);
    const withAdded = registry.datasets.filter((dataset) => dataset.fields.some((field) => field.added)).map((dataset) => dataset.id);
    expect(withAdded).to.include.members(['water_accounts', 'electricity_accounts', 'gas_accounts', 'agri_subsidies', 'land_transfers', 'medical_insurance_changes']);
  });

  for (const dataset of registry.datasets) {
    for (const headers of ['en', 'zh'] as const) {
      it(`is accepted for ${dataset.id} (${dataset.titleZh}) with ${headers === 'en' ? 'English' : 'Chinese'} headers`, async function () {
        const rows = sampleRows(dataset);
        expect(rows.length).to.be.greaterThan(0);
        const body = catalogCsv(dataset, rows, headers);
        const result = await gateway.client(source).ingest(dataset.id, body, { format: 'csv', batchId: `catalog-${dataset.id}-${headers}` });
        expect(result.status, body.split('\n')[0]).to.be.oneOf([200, 201]);
        expect(result.verified.claims).to.include({ dataset: dataset.id, row_count: rows.length });
      });
    }
  }
});

describe('records without an added field', function () {
  let gateway: TestGateway;
  let source: EnrolledParticipant;
  let bank: EnrolledParticipant;
  const USCC = '91350100M000100Y43';

  before(async function () {
    gateway = await startTestGateway();
    source = await gateway.enrol('source', { datasets: ['water_accounts', 'land_transfers'] });
    bank = await gateway.enrol('bank');
  });

  after(async function () {
    await gateway?.stop();
  });

  it('keeps two accounts of one enterprise at two addresses apart (natural key uscc + service_address)', async function () {
    const header = '企业名称,统一社会信用代码,开户日期,用户地址,预交金额,欠费金额,是否一户一表';
    const body = `${header}\n济南明德机械有限公司,${USCC},2019-03-01,济南市历下区经十路1号,100.00,0.00,是\n济南明德机械有限公司,${USCC},2021-07-15,济南市槐荫区经七路9号,0.00,35.50,否\n`;
    const result = await gateway.client(source).ingest('water_accounts', body, { format: 'csv' });
    expect(result.verified.claims).to.include({ row_count: 2 });
    const records = await gateway.runtime.records.bySubject('water_accounts', { idType: 'uscc', idNumber: USCC });
    expect(records).to.have.length(2);
  });

  it('refuses two rows with the same catalog key in one batch, as for any repeated natural key', async function () {
    const header = 'enterprise_name,uscc,account_opening_date,service_address,prepaid_amount,arrears_amount,one_meter_per_household';
    const row = `济南明德机械有限公司,${USCC},2019-03-01,济南市市中区一号,1.00,0.00,是`;
    let status = 0;
    try {
      await gateway.client(source).ingest('water_accounts', `${header}\n${row}\n${row.replace('1.00', '2.00')}\n`, { format: 'csv' });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).to.equal(422);
  });

  it('answers unknown to a question needing a field a record lacks, where the same record with the field answers', async function () {
    const question = 'agri_land_transfer_in_force';
    const ask = async (uscc: string) => {
      const enterprise = await gateway.enrol('enterprise', { uscc });
      const granted = await gateway.client(enterprise).grantConsent({ uscc, bank: bank.record.participantId, purpose: 'loan_approval', questions: [question], days: 30 });
      const { verified } = await gateway.client(bank).askQuestions({
        loanReference: 'L-1', officer: 'o', items: [{ uscc, consentId: String(granted.consent['consent_id']), questions: [question] }],
      });
      const [item] = verified.claims['items'] as { questions: { answer: unknown }[] }[];
      return item!.questions[0]!.answer;
    };
    const catalogOnly = '91110108722619411A';
    const withDate = '91370124962235783B';
    // The transferee's id links both rows to their enterprise; only the second has the transfer period (added fields).
    const header = 'transferor_name,transferee_name,transferee_id_type,transferee_id_number,transfer_fee,land_area_mu,parcel_code,transfer_start_date';
    await gateway.client(source).ingest('land_transfers', [
      header,
      `张三,北京某某科技有限公司,uscc,${catalogOnly},5000.00,12.5,370112-001,`,
      `赵六,济南某某农业有限公司,uscc,${withDate},5000.00,12.5,370112-003,2024-01-01`,
    ].join('\n') + '\n', { format: 'csv' });
    expect(await ask(catalogOnly)).to.equal('unknown');
    expect(await ask(withDate)).to.equal(true);
  });

  it('stores a land transfer without the transferee\'s id, linked to no subject', async function () {
    const header = '土地经营权转让方,土地经营权受让方,土地经营权流转费用,土地面积（亩）,地块代码';
    const result = await gateway.client(source).ingest('land_transfers', `${header}\n李四,王五,3000.00,8,370112-002\n`, { format: 'csv' });
    expect(result.verified.claims).to.include({ row_count: 1 });
  });
});
