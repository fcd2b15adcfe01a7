// Ingestion end to end through the worker pool into the store: formats, atomic batches, idempotence, supersession
// and the dirty input every real feed has.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { datasetIds } from '../../gateway/datasets/registry.js';
import { GatewayError, InvalidRowsError } from '../../gateway/errors/index.js';
import type { IngestRequest } from '../../gateway/ingest/index.js';
import { packageRoot } from '../../gateway/paths.js';
import { bytes, ndjson, openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';

const USCC = '91350100M000100Y43';
const OTHER_USCC = '91110108722619411A';
const HEADER = 'enterprise_name,uscc,arrears_period,arrears_amount\n';

function arrears(period: string, amount: string, uscc = USCC) {
  return { enterprise_name: '济南明德机械有限公司', uscc, arrears_period: period, arrears_amount: amount };
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected the ingestion to fail');
}

describe('ingestion', () => {
  let t: TestRuntime;
  beforeEach(async () => {
    t = await openTestRuntime();
  });
  afterEach(() => t.dispose());

  const ingest = (request: Partial<IngestRequest> & Pick<IngestRequest, 'input'>) =>
    t.runtime.ingestor.ingest({ dataset: 'medical_insurance_arrears', format: 'csv', source: 'test', asOf: '2026-11-01', ...request });
  const current = async (uscc = USCC) =>
    (await t.runtime.records.bySubject('medical_insurance_arrears', { idType: 'uscc', idNumber: uscc })).map((record) => record.values);

  describe('formats', () => {
    it('reads CSV with the Chinese header names and a UTF-8 BOM, amounts as integer fen', async () => {
      const csv = '\uFEFF企业名称,统一社会信用代码,欠缴所属期,欠缴金额\n济南明德机械有限公司,91350100M000100Y43,2026-01,1200.5\n';
      const receipt = await ingest({ input: bytes(csv) });
      expect(receipt).to.include({ outcome: 'stored', rowCount: 1, dataset: 'medical_insurance_arrears', source: 'test', asOf: '2026-11-01' });
      expect(await current()).to.deep.equal([{ enterprise_name: '济南明德机械有限公司', uscc: USCC, arrears_period: '2026-01', arrears_amount: 120050 }]);
    });

    it('reads CSV with quoted fields holding commas and newlines, CRLF line ends and blank cells', async () => {
      const csv = 'enterprise_name,uscc,contribution_month,insured_headcount,employer_contribution_amount,payment_date\r\n'
        + '"济南明德机械有限公司, 历下分公司\n二部",91350100M000100Y43,2026-01,12,100,\r\n';
      await ingest({ dataset: 'medical_insurance_payments', input: bytes(csv) });
      const [record] = (await t.runtime.records.bySubject('medical_insurance_payments', { idType: 'uscc', idNumber: USCC }));
      expect(record?.values).to.deep.equal({
        enterprise_name: '济南明德机械有限公司, 历下分公司\n二部', uscc: USCC, contribution_month: '2026-01', insured_headcount: 12, employer_contribution_amount: 10000,
      });
    });

    it('reads NDJSON, skipping blank lines', async () => {
      const receipt = await ingest({ format: 'ndjson', input: bytes(`${JSON.stringify(arrears('2026-01', '1'))}\n\n${JSON.stringify(arrears('2026-02', '2'))}`) });
      expect(receipt.rowCount).to.equal(2);
    });

    it('reads a JSON array with amounts as numbers and strings containing brackets', async () => {
      const rows = [{ ...arrears('2026-01', '0'), enterprise_name: '济南[明德]{机械},"有限"公司' }, { ...arrears('2026-02', '0'), arrears_amount: 99.99 }];
      const receipt = await ingest({ format: 'json', input: bytes(JSON.stringify(rows, null, 2)) });
      expect(receipt.rowCount).to.equal(2);
      expect((await current()).map((values) => values['arrears_amount'])).to.deep.equal([0, 9999]);
    });

    it('ingests every valid fixture of every dataset', async () => {
      for (const dataset of datasetIds) {
        const fixture = JSON.parse(fs.readFileSync(path.join(packageRoot, 'test/fixtures/datasets', `${dataset}.json`), 'utf8')) as { valid: object[] };
        const receipt = await ingest({ dataset, format: 'ndjson', input: bytes(ndjson(fixture.valid), 4096) });
        expect(receipt.rowCount, dataset).to.equal(fixture.valid.length);
      }
      expect(await t.runtime.store.countRecords()).to.be.greaterThan(36);
    });
  });

  describe('atomic batches', () => {
    it('stores nothing when one row of many is invalid, and lists row, field and reason without the value', async () => {
      const rows = Array.from({ length: 2500 }, (_, i) => arrears(`${1800 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`, '1'));
      rows[1800] = arrears('2999-01', '-98765.43');
      const error = await failure(ingest({ format: 'ndjson', input: bytes(ndjson(rows), 65536) }));
      expect(error).to.be.instanceOf(InvalidRowsError);
      expect((error as InvalidRowsError).rowErrors).to.deep.equal([{ row: 1801, field: 'arrears_amount', reason: 'must be an amount in yuan: not negative, at most two decimals' }]);
      expect(JSON.stringify(error.details)).not.to.contain('98765');
      expect(await t.runtime.store.countRecords()).to.equal(0);
      expect(await t.runtime.store.listBatches(10)).to.deep.equal([]);
    });

    it('reports the first 100 row errors and counts the rest', async () => {
      const rows = Array.from({ length: 250 }, (_, i) => arrears(`2026-${String((i % 12) + 1).padStart(2, '0')}`, 'x', i < 12 ? USCC : OTHER_USCC));
      const error = (await failure(ingest({ format: 'ndjson', input: bytes(ndjson(rows), 4096) }))) as InvalidRowsError;
      expect(error.code).to.equal('invalid_rows');
      expect(error.rowErrors).to.have.length(100);
      expect(error.invalidRowCount).to.equal(250);
      expect(error.rowErrors[0]?.row).to.equal(1);
    });

    it('refuses a natural key repeated inside the batch, naming the first row', async () => {
      const error = (await failure(ingest({ input: bytes(`${HEADER}a,${USCC},2026-01,1\nb,${USCC},2026-02,1\nc,${USCC},2026-01,2\n`) }))) as InvalidRowsError;
      expect(error.rowErrors).to.deep.equal([{ row: 3, reason: 'repeats the natural key (uscc, arrears_period) of row 1' }]);
      expect(await t.runtime.store.countRecords()).to.equal(0);
    });
  });

  describe('idempotence and supersession', () => {
    it('treats the same content again as a no-op, with an audit entry of its own', async () => {
      const input = `${HEADER}a,${USCC},2026-01,1\n`;
      const first = await ingest({ input: bytes(input) });
      const again = await ingest({ input: bytes(input) });
      expect(again).to.deep.equal({ ...first, outcome: 'duplicate', auditIndex: first.auditIndex + 1 });
      expect(await t.runtime.store.countRecords()).to.equal(1);
      const entries = (await t.runtime.audit.log.entries({ start: 0, end: 10, limit: 10 })).map((entry) => JSON.parse(Buffer.from(entry.entry).toString('utf8')) as Record<string, unknown>);
      expect(entries.map((entry) => [entry['kind'], entry['outcome'], entry['batch_id']])).to.deep.equal([
        ['ingest.batch', 'stored', first.batchId], ['ingest.batch', 'duplicate', first.batchId],
      ]);
      expect(await t.runtime.store.unauditedBatches()).to.deep.equal([]);
    });

    it('treats a repeated batch id with the same content as a no-op and with other content as a conflict', async () => {
      await ingest({ batchId: 'feed-2026-11', input: bytes(`${HEADER}a,${USCC},2026-01,1\n`) });
      expect((await ingest({ batchId: 'feed-2026-11', input: bytes(`${HEADER}a,${USCC},2026-01,1\n`) })).outcome).to.equal('duplicate');
      expect((await failure(ingest({ batchId: 'feed-2026-11', input: bytes(`${HEADER}a,${USCC},2026-01,2\n`) }))).code).to.equal('batch_id_conflict');
      expect(await t.runtime.store.countRecords()).to.equal(1);
    });

    it('lets a newer record for the same key supersede the older, which stays in history', async () => {
      await ingest({ asOf: '2026-10-01', input: bytes(`${HEADER}a,${USCC},2026-01,500\na,${USCC},2026-02,700\n`) });
      await ingest({ asOf: '2026-11-01', input: bytes(`${HEADER}a,${USCC},2026-01,0\n`) });
      expect((await current()).map((values) => [values['arrears_period'], values['arrears_amount']]).sort()).to.deep.equal([['2026-01', 0], ['2026-02', 70000]]);
      const history = (await t.runtime.records.bySubject('medical_insurance_arrears', { idType: 'uscc', idNumber: USCC }, { includeHistory: true }));
      expect(history).to.have.length(3);
      expect(history.filter((record) => record.supersededBy !== undefined).map((record) => record.values['arrears_amount'])).to.deep.equal([50000]);
    });
  });

  describe('dirty input', () => {
    const cases: Array<[string, string | Buffer, string, Partial<IngestRequest>?]> = [
      ['an empty file', '', 'empty_input'],
      ['a header and no rows', HEADER, 'empty_input'],
      ['an unknown column', 'enterprise_name,uscc,arrears_period,arrears_amount,secret_column\n', 'invalid_header'],
      ['a missing required column', 'enterprise_name,uscc,arrears_period\n', 'invalid_header'],
      ['a repeated column', 'enterprise_name,uscc,uscc,arrears_period,arrears_amount\n', 'invalid_header'],
      ['GBK bytes instead of UTF-8', Buffer.concat([Buffer.from(HEADER), Buffer.from([0xbc, 0xc3, 0xc4, 0xcf]), Buffer.from(`,${USCC},2026-01,1\n`)]), 'invalid_encoding'],
      ['a truncated UTF-8 sequence at the end', Buffer.concat([Buffer.from(`${HEADER}a,${USCC},2026-01,1\n`), Buffer.from([0xe6, 0xb5])]), 'invalid_encoding'],
      ['an unclosed quote', `${HEADER}"a,${USCC},2026-01,1\n`, 'malformed_input'],
      ['a CSV line far longer than any real row', `${HEADER}${'x'.repeat(200_000)},${USCC},2026-01,1\n`, 'record_too_large'],
      ['an NDJSON line far longer than any real row', `{"enterprise_name":"${'x'.repeat(200_000)}"}\n`, 'record_too_large', { format: 'ndjson' }],
      ['a JSON record far longer than any real row', `[{"enterprise_name":"${'x'.repeat(200_000)}"}]`, 'record_too_large', { format: 'json' }],
      ['JSON that is not an array', '{"a":1}', 'malformed_input', { format: 'json' }],
      ['a JSON array with a trailing comma', `[${JSON.stringify(arrears('2026-01', '1'))},]`, 'malformed_input', { format: 'json' }],
      ['a JSON array left open', `[${JSON.stringify(arrears('2026-01', '1'))}`, 'malformed_input', { format: 'json' }],
      ['an empty JSON array', '[]', 'empty_input', { format: 'json' }],
      ['an as-of date in the future', `${HEADER}a,${USCC},2026-01,1\n`, 'invalid_argument', { asOf: '2999-01-01' }],
      ['an impossible as-of date', `${HEADER}a,${USCC},2026-01,1\n`, 'invalid_argument', { asOf: '2026-02-30' }],
      ['an unknown dataset', `${HEADER}a,${USCC},2026-01,1\n`, 'unknown_dataset', { dataset: 'medical_secrets' }],
    ];
    for (const [what, input, code, overrides] of cases) {
      it(`refuses ${what} with ${code}`, async () => {
        const error = await failure(ingest({ input: bytes(input, 4096), ...overrides }));
        expect(error.code).to.equal(code);
        expect(await t.runtime.store.countRecords()).to.equal(0);
      });
    }

    for (const [name, delimiter] of [['semicolons', ';'], ['tabs', '\t']] as const) {
      it(`says the delimiter looks wrong for a CSV separated by ${name}`, async () => {
        const error = await failure(ingest({ input: bytes(`${HEADER.replaceAll(',', delimiter)}a${delimiter}${USCC}${delimiter}2026-01${delimiter}1\n`) }));
        expect(error.code).to.equal('invalid_header');
        expect(error.message).to.include('delimiter looks wrong').and.include(JSON.stringify(delimiter));
      });
    }

    const rowCases: Array<[string, string, { row: number; field?: string; reason: string }]> = [
      ['a row with too few columns', `${HEADER}a,${USCC},2026-01\n`, { row: 1, reason: 'has 3 columns, the header has 4' }],
      ['a row with too many columns', `${HEADER}a,${USCC},2026-01,1,extra\n`, { row: 1, reason: 'has 5 columns, the header has 4' }],
      ['a failing check character', `${HEADER}a,91310115MA1H8R7C6D,2026-01,1\n`, { row: 1, field: 'uscc', reason: 'must be a valid uscc' }],
      ['a negative amount', `${HEADER}a,${USCC},2026-01,-1\n`, { row: 1, field: 'arrears_amount', reason: 'must be an amount in yuan: not negative, at most two decimals' }],
      ['three decimals', `${HEADER}a,${USCC},2026-01,1.005\n`, { row: 1, field: 'arrears_amount', reason: 'must be an amount in yuan: not negative, at most two decimals' }],
      ['a blank required cell', `${HEADER}a,,2026-01,1\n`, { row: 1, field: 'uscc', reason: 'is required' }],
    ];
    for (const [what, input, expected] of rowCases) {
      it(`reports ${what} as a row error`, async () => {
        const error = (await failure(ingest({ input: bytes(input) }))) as InvalidRowsError;
        expect(error.rowErrors).to.deep.include(expected);
      });
    }

    it('reports a JSON row that is not an object', async () => {
      const error = (await failure(ingest({ format: 'ndjson', input: bytes('[1,2]\n"text"\n{bad json}\n') }))) as InvalidRowsError;
      expect(error.rowErrors.map((e) => e.reason)).to.deep.equal(['must be a JSON object', 'must be a JSON object', 'is not valid JSON']);
    });

    it('keeps working after a refused batch', async () => {
      await failure(ingest({ input: bytes(`${HEADER}a,${USCC},2026-01,-1\n`) }));
      expect((await ingest({ input: bytes(`${HEADER}a,${USCC},2026-01,1\n`) })).outcome).to.equal('stored');
    });
  });
});
