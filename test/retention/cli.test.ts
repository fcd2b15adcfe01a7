// `gateway retention` as an operator runs it on a data directory: a dry run lists the old batch and changes nothing,
// a run purges it (audited, actor "operator"), and status shows the schedule and the purge.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { randomNonces, recordAssociatedData, sealRecord } from '../../gateway/crypto/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import { json, runCli } from '../support/cli.js';
import { prepareTestKeys, testConfig } from '../support/runtime.js';
import { batchMetadata, blindIndex, DATASET } from '../store/fixtures.js';

describe('gateway retention', function () {
  let root = '';

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-retention-cli-'));
    const config = testConfig(root);
    await prepareTestKeys(config);
    const runtime = await openRuntime(config);
    try {
      const writer = await runtime.store.beginBatch(DATASET);
      await writer.add([{
        rowNumber: 1, keyIndex: blindIndex('k1'), subjectIndex: blindIndex('subject-A'),
        sealed: sealRecord(runtime.keyring.current(), recordAssociatedData(DATASET, writer.recordId(1)), Buffer.from('{}'), randomNonces(1)),
      }]);
      await writer.commit(batchMetadata('water-2015', randomBytes(8).toString('hex'), '2015-03-31', 1));
    } finally {
      await runtime.close();
    }
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('says what it would purge, purges it when run, and shows the schedule', async () => {
    const dry = await runCli(root, ['retention', 'run', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(json<{ purged: { batchId: string }[] }>(dry).purged.map((batch) => batch.batchId)).to.deep.equal(['water-2015']);

    const run = await runCli(root, ['retention', 'run', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    const purged = json<{ dryRun: boolean; purged: { batchId: string; records: number; auditIndex: number }[] }>(run);
    expect(purged.dryRun).to.equal(false);
    expect(purged.purged.map((batch) => [batch.batchId, batch.records])).to.deep.equal([['water-2015', 1]]);

    const again = await runCli(root, ['retention', 'run']);
    expect(again.stdout).to.match(/^nothing past retention on \d{4}-\d{2}-\d{2}/);

    const status = await runCli(root, ['retention', 'status', '--json']);
    expect(status.code, status.stderr).to.equal(0);
    const shown = json<{ evidenceYears: number; datasets: { dataset: string; years: number; purgedBatches: number }[] }>(status);
    expect(shown.evidenceYears).to.equal(5);
    expect(shown.datasets.find((entry) => entry.dataset === DATASET)).to.include({ years: 5, purgedBatches: 1 });
  });
});
