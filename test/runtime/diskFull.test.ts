// Pins "disk full tells the truth". On a small tmpfs (mounted when the tests run as root, as CI does): a batch too large
// for the disk is answered 507 storage_full saying it was not stored, nothing of it is kept, the WAL gives the space
// back; /readyz is not ready while the disk is full and ready again once space is freed. With an injected full disk
// behind the audit log: a batch that was committed is answered audit_entry_pending saying it was stored, never "not
// done", and its entry follows with the next ingestion.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { AuditLog } from '../../gateway/audit/index.js';
import { GatewayClientError } from '../../gateway/client/client.js';
import { GatewayError } from '../../gateway/errors/index.js';
import { usccCheckCharacter } from '../../gateway/identifiers/uscc.js';
import { createIngestor } from '../../gateway/ingest/index.js';
import { loadSecrets } from '../../gateway/keys/index.js';
import { bytes, openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';

const DATASET = 'medical_insurance_arrears';
const HEADER = 'enterprise_name,uscc,arrears_period,arrears_amount';
const TMPFS_SIZE = '16m';

/** `rows` valid arrears rows, twelve periods per enterprise. */
function arrearsCsv(rows: number, tag = ''): string {
  const lines = [HEADER];
  for (let n = 0; n < rows; n++) {
    const first17 = `91350100M${String(Math.floor(n / 12)).padStart(8, '0')}`;
    lines.push(`企业${tag}${n},${first17}${usccCheckCharacter(first17)},2024-${String((n % 12) + 1).padStart(2, '0')},${(n % 997) + 0.5}`);
  }
  return `${lines.join('\n')}\n`;
}

async function refusal(promise: Promise<unknown>): Promise<GatewayClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayClientError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** Writes zeros into `file` until the disk is full. */
function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
}

describe('disk full (a small tmpfs as the data directory)', function () {
  this.timeout(180_000);
  let mountPoint: string;
  let gateway: TestGateway;
  let source: EnrolledParticipant;

  before(async function () {
    mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', mountPoint], { stdio: 'ignore' });
    } catch {
      // Not root, or no mount in this sandbox: the injected case below still runs.
      fs.rmSync(mountPoint, { recursive: true, force: true });
      this.skip();
    }
    gateway = await startTestGateway({ GATEWAY_DATA_DIR: path.join(mountPoint, 'data'), GATEWAY_MIN_FREE_MB: '1' });
    source = await gateway.enrol('source', { datasets: [DATASET] });
  });

  after(async function () {
    if (gateway) await gateway.stop();
    if (fs.existsSync(mountPoint)) {
      try {
        execFileSync('umount', [mountPoint], { stdio: 'ignore' });
      } finally {
        fs.rmSync(mountPoint, { recursive: true, force: true });
      }
    }
  });

  it('answers a batch larger than the disk with 507 storage_full, keeps nothing of it and gives the WAL space back', async function () {
    const client = gateway.client(source);
    const error = await refusal(client.ingest(DATASET, arrearsCsv(100_000), { format: 'csv', asOf: '2025-01-31' }));
    expect(error.status).to.equal(507);
    expect(error.code).to.equal('storage_full');
    expect(error.problem['type']).to.equal('urn:credit-gateway:problem:storage_full');
    expect(String(error.problem['detail'])).to.include('is full: the batch was not stored');
    expect(await gateway.runtime.store.listBatches(10)).to.deep.equal([]);
    expect(await gateway.runtime.store.countRecords()).to.equal(0);
    // Nothing was logged as done, and no receipt was signed (the answer is the problem alone).
    expect(await gateway.runtime.audit.log.entries({ start: 0, end: 1000, kind: 'ingest.batch', limit: 10 })).to.deep.equal([]);
    expect(error.problem).to.not.have.property('receipt');
    const wal = path.join(gateway.config.dataDir, 'gateway.sqlite-wal');
    expect(fs.existsSync(wal) ? fs.statSync(wal).size : 0).to.be.below(1024 * 1024);
    expect((await fetch(`${gateway.url}/readyz`)).status).to.equal(200);
  });

  it('is not ready while the disk is full, refuses writes with storage_full, and recovers once space is freed', async function () {
    const filler = path.join(mountPoint, 'filler');
    fillDisk(filler);
    try {
      const ready = await fetch(`${gateway.url}/readyz`);
      expect(ready.status).to.equal(507);
      expect(((await ready.json()) as { code: string }).code).to.equal('storage_full');
      const error = await refusal(gateway.client(source).ingest(DATASET, arrearsCsv(20, 'small'), { format: 'csv', asOf: '2025-01-31' }));
      expect(error.code).to.equal('storage_full');
      expect(error.status).to.equal(507);
    } finally {
      fs.rmSync(filler);
    }
    expect((await fetch(`${gateway.url}/readyz`)).status).to.equal(200);
    const stored = await gateway.client(source).ingest(DATASET, arrearsCsv(20, 'small'), { format: 'csv', asOf: '2025-01-31' });
    expect(stored.status).to.equal(201);
    expect(await gateway.runtime.audit.log.entries({ start: 0, end: 1000, kind: 'ingest.batch', limit: 10 })).to.have.length(1);
  });
});

describe('disk full behind the audit log, after a batch committed (injected)', function () {
  this.timeout(60_000);
  let test: TestRuntime;

  beforeEach(async function () {
    test = await openTestRuntime({ GATEWAY_INGEST_WORKERS: '1' });
  });

  afterEach(async function () {
    await test.dispose();
  });

  it('says the batch was stored (audit_entry_pending), never "not done", and the entry follows with the next ingestion', async function () {
    const { runtime, config } = test;
    let full = true;
    // The audit log as a full disk leaves it: its store refuses the append (sqliteAuditStore maps SQLITE_FULL so).
    const audit: AuditLog = {
      ...runtime.audit.log,
      append: (event) => (full
        ? Promise.reject(new GatewayError('storage_full', 'the disk holding audit.sqlite is full: the audit entry could not be written, so the action was not done'))
        : runtime.audit.log.append(event)),
    };
    const ingestor = createIngestor({
      store: runtime.store, registry: runtime.registry, keyring: runtime.keyring, blindIndexKey: loadSecrets(config.keysDir).blindIndex,
      workers: 1, maxRecordBytes: config.maxRecordBytes, audit,
    });
    try {
      let error: unknown;
      await ingestor.ingest({ dataset: DATASET, format: 'csv', input: bytes(arrearsCsv(5)), source: 'source-1', asOf: '2025-01-31' }).catch((caught: unknown) => { error = caught; });
      expect(error).to.be.instanceOf(GatewayError);
      const pending = error as GatewayError;
      expect(pending.code).to.equal('audit_entry_pending');
      expect(pending.status).to.equal(503);
      expect(pending.message).to.match(/^the batch \S+ was stored \(5 rows\), but its audit entry could not be written yet/);
      expect(pending.message).to.include('it is written by the next ingestion');
      expect(pending.details).to.include({ stored: true, row_count: 5 });
      const [batch] = await runtime.store.unauditedBatches();
      expect(batch?.batchId).to.equal(pending.details?.['batch_id']);

      full = false;
      const next = await ingestor.ingest({ dataset: DATASET, format: 'csv', input: bytes(arrearsCsv(3, 'next')), source: 'source-1', asOf: '2025-01-31' });
      expect(next.outcome).to.equal('stored');
      expect(await runtime.store.unauditedBatches()).to.deep.equal([]);
      const entries = (await runtime.audit.log.entries({ start: 0, end: 100, kind: 'ingest.batch', limit: 10 })).map((entry) => JSON.parse(Buffer.from(entry.entry).toString('utf8')) as { batch_id: string; recovered?: boolean });
      expect(entries.map((entry) => [entry.batch_id, entry.recovered ?? false])).to.deep.equal([[batch?.batchId, true], [next.batchId, false]]);
    } finally {
      await ingestor.close();
    }
  });
});
