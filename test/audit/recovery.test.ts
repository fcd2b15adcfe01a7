// Pins the recovery of the crash window between a batch's commit and its audit entry (two databases, so two
// transactions): a batch committed without its entry (as a process killed in between leaves it, simulated by
// committing through the store's BatchWriter without the ingestor) gets exactly one `ingest.batch` entry marked
// `recovered: true` from auditUnloggedBatches, which also records the entry's index on the batch; a second run
// appends nothing; batches the ingestor logged are left alone; and `gateway serve` does this at start, before it
// listens, so a crashed gateway's next start closes the gap.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { auditUnloggedBatches } from '../../gateway/ingest/index.js';
import { DATABASE_FILE, openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import type { BatchMetadata, Store } from '../../gateway/store/index.js';
import { bytes, openTestRuntime, prepareTestKeys, testConfig } from '../support/runtime.js';
import { serveUntilListening } from '../support/serve.js';
import type { TestRuntime } from '../support/runtime.js';

const DATASET = 'medical_insurance_arrears';

interface BatchEntry {
  readonly kind: string;
  readonly actor: string;
  readonly outcome: string;
  readonly batch_id: string;
  readonly dataset: string;
  readonly format: string;
  readonly row_count: number;
  readonly content_sha256: string;
  readonly as_of: string;
  readonly received_at: string;
  readonly recovered?: boolean;
}

/** Commits a one-record batch straight through the store: what a process killed before the audit append leaves. */
async function commitWithoutEntry(store: Store, batchId: string): Promise<BatchMetadata> {
  const metadata: BatchMetadata = {
    batchId,
    dataset: DATASET,
    source: 'source-crashed',
    contentHash: createHash('sha256').update(batchId).digest('hex'),
    format: 'csv',
    rowCount: 1,
    asOf: '2026-01-31',
    receivedAt: new Date().toISOString(),
  };
  const writer = await store.beginBatch(DATASET);
  await writer.add([{ rowNumber: 1, keyIndex: randomBytes(32), subjectIndex: randomBytes(32), sealed: randomBytes(64) }]);
  expect((await writer.commit(metadata)).outcome).to.equal('stored');
  return metadata;
}

/** batches.audit_index of a batch, read from the records database itself. */
function auditIndexOf(config: GatewayConfig, batchId: string): number | null {
  const db = new Database(path.join(config.dataDir, DATABASE_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT audit_index FROM batches WHERE batch_id = ?').get(batchId) as { audit_index: number | null }).audit_index;
  } finally {
    db.close();
  }
}

async function entriesOf(runtime: Runtime): Promise<BatchEntry[]> {
  const size = await runtime.audit.log.size();
  return await (await runtime.audit.log.entries({ start: 0, end: size, limit: size + 1 }))
    .map((entry) => JSON.parse(Buffer.from(entry.entry).toString('utf8')) as BatchEntry);
}

function ingestNormally(runtime: Runtime, period: string) {
  const csv = `enterprise_name,uscc,arrears_period,arrears_amount\n济南明德机械有限公司,91350100M000100Y43,${period},1200.00\n`;
  return runtime.ingestor.ingest({ dataset: DATASET, format: 'csv', source: 'source-live', asOf: '2026-01-31', input: bytes(csv) });
}

describe('audit of batches committed before a crash', function () {
  describe('auditUnloggedBatches', function () {
    let test: TestRuntime;

    beforeEach(async function () {
      test = await openTestRuntime({ GATEWAY_INGEST_WORKERS: '1' });
    });
    afterEach(async function () {
      await test?.dispose();
    });

    it('gives a batch committed without its entry exactly one ingest.batch entry, marked recovered, and marks the batch', async function () {
      const { runtime } = test;
      await ingestNormally(runtime, '2025-01');
      const batch = (await commitWithoutEntry(runtime.store, 'crashed-batch-1'));
      expect((await runtime.store.unauditedBatches()).map((unlogged) => unlogged.batchId)).to.deep.equal([batch.batchId]);
      const before = await runtime.audit.log.size();

      expect(await auditUnloggedBatches(runtime.store, runtime.audit.log)).to.equal(1);

      expect(await runtime.audit.log.size()).to.equal(before + 1);
      const entry = (await entriesOf(runtime))[before]!;
      expect(entry).to.deep.include({
        kind: 'ingest.batch', actor: batch.source, outcome: 'stored', batch_id: batch.batchId, dataset: DATASET, format: 'csv',
        row_count: 1, content_sha256: batch.contentHash, as_of: batch.asOf, received_at: batch.receivedAt, recovered: true,
      });
      expect(auditIndexOf(test.config, batch.batchId)).to.equal(before);
      expect(await runtime.store.unauditedBatches()).to.deep.equal([]);
    });

    it('appends nothing when run again', async function () {
      const { runtime } = test;
      await commitWithoutEntry(runtime.store, 'crashed-batch-2');
      expect(await auditUnloggedBatches(runtime.store, runtime.audit.log)).to.equal(1);
      const size = await runtime.audit.log.size();
      expect(await auditUnloggedBatches(runtime.store, runtime.audit.log)).to.equal(0);
      expect(await runtime.audit.log.size()).to.equal(size);
    });

    it('gives each of several unlogged batches its own entry, in commit order', async function () {
      const { runtime } = test;
      const batches = [];
      for (const batchId of ['crashed-a', 'crashed-b', 'crashed-c']) batches.push(await commitWithoutEntry(runtime.store, batchId));
      const before = await runtime.audit.log.size();
      expect(await auditUnloggedBatches(runtime.store, runtime.audit.log)).to.equal(3);
      const recovered = (await entriesOf(runtime)).slice(before);
      expect(recovered.map((entry) => entry.batch_id)).to.deep.equal(batches.map((batch) => batch.batchId));
      batches.forEach((batch, offset) => expect(auditIndexOf(test.config, batch.batchId)).to.equal(before + offset));
    });

    it('leaves alone the batches the ingestor logged, which carry their entry\'s index', async function () {
      const { runtime } = test;
      const receipt = await ingestNormally(runtime, '2025-02');
      expect(auditIndexOf(test.config, receipt.batchId)).to.equal(receipt.auditIndex);
      const size = await runtime.audit.log.size();
      expect(await auditUnloggedBatches(runtime.store, runtime.audit.log)).to.equal(0);
      expect(await runtime.audit.log.size()).to.equal(size);
      expect((await entriesOf(runtime)).filter((entry) => entry.kind === 'ingest.batch')).to.have.length(1);
    });
  });

  describe('gateway serve', function () {
    this.timeout(40_000);
    let dir: string;

    beforeEach(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-audit-recovery-'));
    });
    afterEach(function () {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('writes the missing entry at start, before it listens, and only once over two starts', async function () {
      const config = testConfig(dir, { GATEWAY_INGEST_WORKERS: '1' });
      await prepareTestKeys(config);
      let runtime = (await openRuntime(config));
      const logged = await ingestNormally(runtime, '2025-03');
      const batch = await commitWithoutEntry(runtime.store, 'crashed-before-serve');
      const sizeBefore = await runtime.audit.log.size();
      await runtime.close();

      let markedWhenListening: number | null = null;
      const first = await serveUntilListening(config, () => {
        markedWhenListening = auditIndexOf(config, batch.batchId);
      });
      expect(markedWhenListening, 'the batch\'s audit index once serve answers requests').to.equal(sizeBefore);
      expect(first.code, `exit code; stderr:\n${first.stderr}`).to.equal(0);
      expect(first.stderr).to.include('gateway listening');
      const warning = first.stdout.split('\n').filter((line) => line.includes('committed before a crash')).map((line) => JSON.parse(line) as { batches: number });
      expect(warning.map((line) => line.batches)).to.deep.equal([1]);

      const second = await serveUntilListening(config);
      expect(second.code, `exit code; stderr:\n${second.stderr}`).to.equal(0);
      expect(second.stdout).to.not.include('committed before a crash');

      runtime = (await openRuntime(config));
      try {
        const entries = await entriesOf(runtime);
        expect(entries).to.have.length(sizeBefore + 1);
        const recovered = entries.filter((entry) => entry.kind === 'ingest.batch' && entry.batch_id === batch.batchId);
        expect(recovered).to.have.length(1);
        expect(recovered[0]).to.deep.include({ recovered: true, actor: batch.source, content_sha256: batch.contentHash });
        expect(entries.filter((entry) => entry.batch_id === logged.batchId)).to.have.length(1);
        expect(auditIndexOf(config, batch.batchId)).to.equal(sizeBefore);
        expect(await runtime.store.unauditedBatches()).to.deep.equal([]);
      } finally {
        await runtime.close();
      }
    });
  });
});
