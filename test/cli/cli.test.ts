// Pins the `gateway` CLI as an operator uses it: help, init, datasets, ingest receipts and errors, batches, demo-data, key rotation, bad config.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { IngestReceipt as Receipt } from '../../gateway/ingest/index.js';
import { packageRoot } from '../../gateway/paths.js';
import { failedWith, json, runCli as gateway, succeeded } from '../support/cli.js';
import type { Run } from '../support/cli.js';

const BOM = '\uFEFF';
const HEADER = '企业名称,统一社会信用代码,欠缴所属期,欠缴金额';
/** Distinctive values of the invalid row: none of them may appear in any output. */
const SECRET_NAME = '济南保密标记精工有限公司';
const SECRET_AMOUNT = '98765.43';
const SECRET_USCC = '91350100M000100Y44';


interface DemoResult {
  readonly receipts: readonly Receipt[];
  readonly examples: readonly unknown[];
}


function csv(rows: readonly string[], bom = false): string {
  return `${bom ? BOM : ''}${[HEADER, ...rows].join('\n')}\n`;
}

describe('gateway CLI', function () {
  this.timeout(300_000);
  let root: string;
  let file: (name: string) => string;

  before(function () {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-cli-'));
    file = (name) => path.join(root, name);
    fs.writeFileSync(file('arrears.csv'), csv([
      '济南明德机械有限公司,91350100M000100Y43,2024-11,1200.00',
      '济南明德机械有限公司,91350100M000100Y43,2024-12,300.5',
      '济南历城鑫源食品有限公司,91370102MA3M9XQ1L1,2024-12,0',
    ], true));
    fs.writeFileSync(file('invalid.csv'), csv([
      '济南明德机械有限公司,91350100M000100Y43,2024-10,10.00',
      `${SECRET_NAME},${SECRET_USCC},2024-13,-${SECRET_AMOUNT}`,
    ]));
    fs.writeFileSync(file('arrears.txt'), csv(['济南明德机械有限公司,91350100M000100Y43,2024-09,1.00']));
    fs.writeFileSync(file('after-rotation.csv'), csv(['济南明德机械有限公司,91350100M000100Y43,2025-01,42.00'], true));
  });

  after(function () {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe('--help', function () {
    const commands = [
      'init', 'serve', 'ingest', 'demo-data', 'keys', 'keys rotate', 'keys rotate-data', 'datasets', 'datasets list', 'datasets doc',
      'batches', 'batches list', 'participants', 'participants add', 'participants list', 'participants suspend', 'participants resume',
      'participants revoke', 'participants show', 'client', 'client ingest', 'client request', 'client verify', 'client subscribe',
      'client subscriptions', 'client unsubscribe', 'client alerts', 'audit', 'audit verify', 'audit verify-remote', 'questions list',
    ];
    const runs = new Map<string, Run>();

    before(async function () {
      // Independent and stateless: run them side by side.
      const results = await Promise.all(commands.map((command) => gateway(root, [...command.split(' '), '--help'])));
      commands.forEach((command, index) => runs.set(command, results[index] as Run));
    });

    for (const command of commands) {
      it(`works for \`gateway ${command}\``, function () {
        const run = succeeded(runs.get(command) as Run);
        expect(run.stdout).to.include(`Usage: gateway ${command}`);
        expect(run.stderr).to.equal('');
      });
    }
  });

  describe('init', function () {
    it('creates the key files, private ones 0600, and prints JSON with `created`', async function () {
      const result = json<{ keys_dir: string; created: string[] }>(succeeded(await gateway(root, ['init', '--json'])));
      expect(result.keys_dir).to.equal(file('keys'));
      expect(result.created).to.include.members(['data-kek.key', 'blind-index.key', 'ca.key.pem', 'ca.cert.pem', 'signing-keys.json']);
      for (const name of result.created) {
        const mode = fs.statSync(path.join(result.keys_dir, name)).mode & 0o777;
        expect(mode.toString(8), name).to.equal(name.endsWith('.cert.pem') ? '644' : '600');
      }
    });

    it('is idempotent: a second run creates nothing and keeps the keys', async function () {
      const before = fs.readdirSync(file('keys')).map((name) => fs.readFileSync(path.join(file('keys'), name), 'utf8'));
      const result = json<{ created: string[] }>(succeeded(await gateway(root, ['init', '--json'])));
      expect(result.created).to.deep.equal([]);
      const after = fs.readdirSync(file('keys')).map((name) => fs.readFileSync(path.join(file('keys'), name), 'utf8'));
      expect(after).to.deep.equal(before);
    });

    it('makes keys for the 国密 profile with --crypto-profile gm, and refuses to change the profile of keys that exist', async function () {
      const gmRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-cli-gm-'));
      try {
        const made = json<{ crypto_profile: string; created: string[] }>(succeeded(await gateway(gmRoot, ['init', '--crypto-profile', 'gm', '--json'])));
        expect(made.crypto_profile).to.equal('gm');
        expect(made.created).to.include('crypto-profile');
        expect(Buffer.from(fs.readFileSync(path.join(gmRoot, 'keys', 'data-kek.key'), 'utf8').trim(), 'base64')).to.have.length(16);
        const refused = failedWith(await gateway(gmRoot, ['init', '--json'], { GATEWAY_CRYPTO_PROFILE: 'standard' }), 'invalid_configuration');
        expect(refused.error.message).to.include(path.join(gmRoot, 'keys', 'crypto-profile'));
        failedWith(await gateway(gmRoot, ['init', '--crypto-profile', 'sm9', '--json']), 'invalid_argument');
      } finally {
        fs.rmSync(gmRoot, { recursive: true, force: true });
      }
    });
  });

  describe('datasets list', function () {
    it('lists the twelve datasets as JSON', async function () {
      const rows = json<Array<{ id: string; natural_key: string[]; fields: string[] }>>(succeeded(await gateway(root, ['datasets', 'list', '--json'])));
      const ids = rows.map((row) => row.id);
      expect(ids).to.have.length(12);
      expect(new Set(ids).size).to.equal(12);
      expect(ids).to.include('medical_insurance_arrears');
      const arrears = rows.find((row) => row.id === 'medical_insurance_arrears');
      expect(arrears?.natural_key).to.deep.equal(['uscc', 'arrears_period']);
    });
  });

  describe('questions list', function () {
    it('shows each question\'s packs and definition hash in its human output, and every pack with its questions', async function () {
      const [human, machine] = await Promise.all([gateway(root, ['questions', 'list']), gateway(root, ['questions', 'list', '--json'])]);
      const { questions, packs } = json<{ questions: Array<{ id: string; version: number; packs: string[]; definition_hash: string }>; packs: Array<{ id: string; questions: string[] }> }>(succeeded(machine));
      const text = succeeded(human).stdout;
      for (const question of questions) {
        const block = text.slice(text.indexOf(`${question.id} v${question.version}  `));
        expect(block, question.id).to.match(new RegExp(`^${question.id} v${question.version} .*\n.*\n    packs: ${question.packs.join(', ') || '\\(none\\)'}\n    definition hash: ${question.definition_hash}\n`));
      }
      for (const pack of packs) expect(text).to.include(`  ${pack.id} (${pack.questions.length} questions, `);
    });
  });

  describe('--version', function () {
    it('prints the package version', async function () {
      const { version } = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
      expect(succeeded(await gateway(root, ['--version'])).stdout).to.equal(`${version}\n`);
    });
  });

  describe('ingest and batches list', function () {
    let stored: Receipt;

    it('stores a CSV with Chinese headers and a UTF-8 BOM and prints the receipt', async function () {
      stored = json<Receipt>(succeeded(await gateway(root, [
        'ingest', file('arrears.csv'), '--dataset', 'medical_insurance_arrears', '--source', 'jinan-medical-security', '--as-of', '2025-01-31', '--json',
      ])));
      expect(stored.outcome).to.equal('stored');
      expect(stored.rowCount).to.equal(3);
      expect(stored.dataset).to.equal('medical_insurance_arrears');
      expect(stored.format).to.equal('csv');
      expect(stored.source).to.equal('jinan-medical-security');
      expect(stored.asOf).to.equal('2025-01-31');
      expect(stored.contentHash).to.match(/^[0-9a-f]{64}$/);
    });

    it('treats the same file again as a duplicate of the same batch', async function () {
      const again = json<Receipt>(succeeded(await gateway(root, [
        'ingest', file('arrears.csv'), '--dataset', 'medical_insurance_arrears', '--source', 'jinan-medical-security', '--as-of', '2025-01-31', '--json',
      ])));
      expect(again.outcome).to.equal('duplicate');
      expect(again.batchId).to.equal(stored.batchId);
      expect(again.rowCount).to.equal(3);
    });

    it('lists the stored batch with its source and as-of date', async function () {
      const batches = json<Array<{ batchId: string; dataset: string; source: string; asOf: string; rowCount: number }>>(
        succeeded(await gateway(root, ['batches', 'list', '--json'])),
      );
      expect(batches).to.have.length(1);
      expect(batches[0]).to.include({
        batchId: stored.batchId, dataset: 'medical_insurance_arrears', source: 'jinan-medical-security', asOf: '2025-01-31', rowCount: 3,
      });
    });
  });

  describe('ingest of an invalid file', function () {
    let jsonRun: Run;
    let humanRun: Run;

    before(async function () {
      const args = ['ingest', file('invalid.csv'), '--dataset', 'medical_insurance_arrears'];
      [jsonRun, humanRun] = await Promise.all([gateway(root, [...args, '--json']), gateway(root, args)]);
    });

    it('exits 1 and with --json prints invalid_rows with row, field and reason', function () {
      const body = failedWith(jsonRun, 'invalid_rows');
      expect(body.error.invalid_row_count).to.equal(1);
      const errors = body.error.errors ?? [];
      expect(errors).to.not.be.empty;
      for (const error of errors) {
        expect(error.row).to.equal(2);
        expect(error.field).to.be.a('string');
        expect(error.reason).to.be.a('string').and.not.be.empty;
      }
      expect(errors.map((error) => error.field)).to.include.members(['uscc', 'arrears_period', 'arrears_amount']);
    });

    it('without --json writes the message to stderr, naming row 2', function () {
      expect(humanRun.code).to.equal(1);
      expect(humanRun.stdout).to.equal('');
      expect(humanRun.stderr).to.include('invalid_rows');
      expect(humanRun.stderr).to.include('row 2');
    });

    it('never shows the invalid values', function () {
      for (const run of [jsonRun, humanRun]) {
        for (const secret of [SECRET_NAME, SECRET_AMOUNT, SECRET_USCC, '2024-13']) {
          expect(run.stdout).to.not.include(secret);
          expect(run.stderr).to.not.include(secret);
        }
      }
    });
  });

  describe('ingest refusals', function () {
    let unknownDataset: Run;
    let missingFile: Run;
    let unknownFormat: Run;

    before(async function () {
      [unknownDataset, missingFile, unknownFormat] = await Promise.all([
        gateway(root, ['ingest', file('arrears.csv'), '--dataset', 'no_such_dataset', '--json']),
        gateway(root, ['ingest', file('missing.csv'), '--dataset', 'medical_insurance_arrears', '--json']),
        gateway(root, ['ingest', file('arrears.txt'), '--dataset', 'medical_insurance_arrears', '--json']),
      ]);
    });

    it('refuses an unknown dataset with unknown_dataset', function () {
      failedWith(unknownDataset, 'unknown_dataset');
    });

    it('refuses a missing file with file_not_found, naming it', function () {
      expect(failedWith(missingFile, 'file_not_found').error.message).to.include('missing.csv');
    });

    it('refuses an extension it cannot map to a format with unsupported_format', function () {
      failedWith(unknownFormat, 'unsupported_format');
    });
  });

  describe('demo-data', function () {
    let first: DemoResult;

    it('loads a small population, one receipt per non-empty dataset', async function () {
      first = json<DemoResult>(succeeded(await gateway(root, ['demo-data', '--enterprises', '30', '--seed', '5', '--as-of', '2025-06-30', '--json'])));
      expect(first.receipts.length).to.be.within(1, 12);
      for (const receipt of first.receipts) {
        expect(receipt.outcome).to.equal('stored');
        expect(receipt.source).to.equal('demo-data');
        expect(receipt.asOf).to.equal('2025-06-30');
        expect(receipt.rowCount).to.be.greaterThan(0);
      }
    });

    it('is deterministic: the same options again store nothing new', async function () {
      const again = json<DemoResult>(succeeded(await gateway(root, ['demo-data', '--enterprises', '30', '--seed', '5', '--as-of', '2025-06-30', '--json'])));
      expect(again.receipts.map((receipt) => receipt.outcome)).to.deep.equal(first.receipts.map(() => 'duplicate'));
      expect(again.receipts.map((receipt) => receipt.contentHash)).to.deep.equal(first.receipts.map((receipt) => receipt.contentHash));
    });

    describe('then keys rotate-data', function () {
      it('makes data key 2 current and re-encrypts every stored row (refused batches stored none)', async function () {
        const storedRows = 3 + first.receipts.reduce((sum, receipt) => sum + receipt.rowCount, 0);
        const result = json<{ data_key_id: number; scanned: number; reencrypted: number }>(succeeded(await gateway(root, ['keys', 'rotate-data', '--json'])));
        expect(result.data_key_id).to.equal(2);
        expect(result.reencrypted).to.equal(storedRows);
        expect(result.scanned).to.equal(storedRows);
      });

      it('leaves ingestion working', async function () {
        const receipt = json<Receipt>(succeeded(await gateway(root, [
          'ingest', file('after-rotation.csv'), '--dataset', 'medical_insurance_arrears', '--as-of', '2025-02-28', '--json',
        ])));
        expect(receipt.outcome).to.equal('stored');
        expect(receipt.rowCount).to.equal(1);
        expect(receipt.source).to.equal('operator');
      });
    });
  });

  describe('invalid configuration', function () {
    it('makes serve (PORT=abc) and ingest (GATEWAY_INGEST_WORKERS=0) exit non-zero with invalid_configuration', async function () {
      const [serve, ingest] = await Promise.all([
        gateway(root, ['serve'], { PORT: 'abc', GATEWAY_DEMO_ENTERPRISES: '0' }, 10_000),
        gateway(root, ['ingest', file('arrears.csv'), '--dataset', 'medical_insurance_arrears'], { GATEWAY_INGEST_WORKERS: '0' }),
      ]);
      expect(serve.code).to.be.a('number').and.not.equal(0);
      expect(serve.stderr).to.include('invalid_configuration').and.include('PORT');
      expect(ingest.code).to.be.a('number').and.not.equal(0);
      expect(ingest.stderr).to.include('invalid_configuration').and.include('GATEWAY_INGEST_WORKERS');
    });
  });
});
