// The national uplink end to end (docs/uplink.md): a real gateway on 127.0.0.1 ingests batches and sends their
// manifests to a stand-in for the national platform (./platform.ts) that decrypts them, verifies the gateway's
// signature against its JWKS and answers with signed receipts. Pins: a manifest carries no record value (neither in
// its plaintext nor in its ciphertext); it is acknowledged once, with its receipt stored and audited; a platform that
// is down, or that answers 2xx without a valid receipt, gets the manifest again until it acknowledges it; past the
// retry horizon a manifest is dead-lettered and `gateway uplink replay` sends it again; a stored batch always has its
// manifest queued; batches stored before the uplink was enabled are queued when it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { GatewayConfig } from '../../gateway/config/index.js';
import { startServer } from '../../gateway/http/server.js';
import type { RunningServer } from '../../gateway/http/server.js';
import { auditUnloggedBatches } from '../../gateway/ingest/index.js';
import type { IngestReceipt } from '../../gateway/ingest/index.js';
import { createLogger, createMetrics } from '../../gateway/observability/index.js';
import { openRuntime } from '../../gateway/runtime/index.js';
import type { Runtime } from '../../gateway/runtime/index.js';
import type { UplinkManifest } from '../../gateway/store/index.js';
import { failedWith, json, runCli, succeeded } from '../support/cli.js';
import { bytes, prepareTestKeys, testConfig } from '../support/runtime.js';
import { uscc } from '../monitoring/support.js';
import { startTestPlatform } from './platform.js';
import type { TestPlatform } from './platform.js';

const DATASET = 'medical_insurance_arrears';
const FAST_RETRIES = {
  GATEWAY_UPLINK_POLL_MS: '50', GATEWAY_UPLINK_RETRY_BASE_MS: '50', GATEWAY_UPLINK_RETRY_MAX_MS: '200',
  // The stand-in platform listens on loopback, which the uplink may reach only when the operator allows it.
  GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32',
};

interface Served {
  readonly config: GatewayConfig;
  readonly runtime: Runtime;
  readonly running: RunningServer;
}

/** Serves the gateway on `dir` (its data and keys directories), as `gateway serve` would. */
async function serve(dir: string, env: Record<string, string>): Promise<Served> {
  const config = testConfig(dir, { PORT: '0', HOST: '127.0.0.1', GATEWAY_INGEST_WORKERS: '1', ...env });
  await prepareTestKeys(config);
  const runtime = await openRuntime(config);
  const running = await startServer(runtime, createLogger('silent'), createMetrics());
  return { config, runtime, running };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Values no manifest may carry: a name, an amount and an identifier that are in the batch's rows only. */
function canaries(n: number) {
  return { name: `Canary Uplink 钱塘 ${n} Co`, amount: `${48_213 + n}.77`, uscc: uscc(90_000 + n) };
}

function canaryCsv(n: number): string {
  const canary = canaries(n);
  return `enterprise_name,uscc,arrears_period,arrears_amount\n${canary.name},${canary.uscc},2025-01,${canary.amount}\n`;
}

function ingest(runtime: Runtime, batchId: string, n: number): Promise<IngestReceipt> {
  return runtime.ingestor.ingest({ dataset: DATASET, format: 'csv', input: bytes(canaryCsv(n)), source: 'operator', batchId });
}

async function manifestOf(runtime: Runtime, batchId: string): Promise<UplinkManifest> {
  const manifest = await runtime.store.getManifestOfBatch(batchId);
  if (!manifest) throw new Error(`the batch ${batchId} has no manifest`);
  return manifest;
}

function acknowledged(runtime: Runtime, batchId: string): Promise<UplinkManifest> {
  return until(`the manifest of ${batchId} to be acknowledged`, async () => {
    // A backfilled batch has no manifest until the worker queues it.
    const manifest = await runtime.store.getManifestOfBatch(batchId);
    return manifest?.state === 'acknowledged' ? manifest : undefined;
  });
}

/** The audit entries of a kind, parsed (an entry's members besides its envelope are the event's details). */
async function auditEntries(runtime: Runtime, kind: string): Promise<Record<string, unknown>[]> {
  const entries = await runtime.audit.log.entries({ start: 0, end: await runtime.audit.log.size(), kind, limit: 1000 });
  return entries.map((entry) => JSON.parse(Buffer.from(entry.entry).toString('utf8')) as Record<string, unknown>);
}

describe('national uplink', function () {
  const roots: string[] = [];
  const platforms: TestPlatform[] = [];
  const served: Served[] = [];

  function root(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-uplink-'));
    roots.push(dir);
    return dir;
  }

  async function platform(): Promise<TestPlatform> {
    const started = await startTestPlatform(root());
    platforms.push(started);
    return started;
  }

  async function gateway(dir: string, env: Record<string, string>): Promise<Served> {
    const started = await serve(dir, env);
    served.push(started);
    return started;
  }

  async function uplinked(target: TestPlatform, dir = root(), env: Record<string, string> = {}): Promise<Served> {
    const started = await gateway(dir, { ...FAST_RETRIES, GATEWAY_UPLINK_URL: target.url, ...target.env, ...env });
    target.gatewayJwks = { keys: started.runtime.signingKeys.published() };
    return started;
  }

  after(async () => {
    for (const running of served) await running.running.stop().catch(() => undefined);
    for (const started of platforms) await started.close();
    for (const dir of roots) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('with a platform that answers', function () {
    let target: TestPlatform;
    let runtime: Runtime;
    let config: GatewayConfig;
    before(async function () {
      target = await platform();
      ({ runtime, config } = await uplinked(target));
    });
    beforeEach(() => {
      target.mode = 'up';
    });

    it('sends a manifest signed by the gateway and encrypted to the platform, without a record value, and stores the receipt once', async function () {
      const receipt = await ingest(runtime, 'uplink-one', 1);
      const manifest = await acknowledged(runtime, 'uplink-one');
      const received = target.manifests.get(manifest.manifestId);
      expect(received, 'the platform has the manifest').to.not.equal(undefined);
      expect(target.refused).to.deep.equal([]);
      expect(received?.claims).to.deep.include({
        iss: config.gatewayId, jti: manifest.manifestId, manifest_id: manifest.manifestId,
        batch: {
          batch_id: 'uplink-one', dataset: DATASET, as_of: receipt.asOf, source: 'operator', format: 'csv', content_sha256: receipt.contentHash,
          row_count: 1, received_at: receipt.receivedAt,
        },
        audit: { origin: config.auditOrigin, index: receipt.auditIndex },
      });
      const canary = canaries(1);
      for (const value of [canary.name, canary.amount, canary.uscc, 'Canary']) {
        expect(received?.payloadText, 'plaintext manifest').to.not.include(value);
        expect(received?.signed, 'signed manifest').to.not.include(value);
        expect(received?.ciphertext, 'ciphertext').to.not.include(value);
      }
      // The ciphertext is what the gateway stored and sends on every attempt.
      expect(manifest.jwe).to.equal(received?.ciphertext);
      expect(manifest.receipt?.auditIndex).to.be.a('number');
      expect(manifest.attempts).to.equal(1);
      const entries = (await auditEntries(runtime, 'uplink.acknowledged')).filter((entry) => entry['manifest_id'] === manifest.manifestId);
      expect(entries).to.have.length(1);
      expect(entries[0]).to.deep.include({ batch_id: 'uplink-one', content_sha256: receipt.contentHash, batch_audit_index: receipt.auditIndex,
        received_at: manifest.receipt?.receivedAt });
      // Acknowledged once: nothing more is sent for it.
      const verifiedBefore = target.verified;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(target.verified).to.equal(verifiedBefore);
    });

    it('queues a stored batch\'s manifest with the batch: it is there when ingestion returns, and a duplicate queues none', async function () {
      target.mode = 'down';
      await ingest(runtime, 'uplink-queued', 2);
      expect((await manifestOf(runtime, 'uplink-queued')).state).to.equal('pending');
      const before = (await runtime.store.countManifests());
      const duplicate = await ingest(runtime, 'uplink-queued', 2);
      expect(duplicate.outcome).to.equal('duplicate');
      const after = await runtime.store.countManifests();
      expect(after.pending + after.acknowledged + after.dead).to.equal(before.pending + before.acknowledged + before.dead);
      target.mode = 'up';
      await acknowledged(runtime, 'uplink-queued');
    });

    it('holds the manifest of a batch left without its audit entry (a crash between the two) until the entry is written, then sends it', async function () {
      // What a process that died right after the commit leaves: the batch and its manifest, committed together, no entry.
      const writer = await runtime.store.beginBatch(DATASET);
      await writer.add([{ rowNumber: 1, keyIndex: Buffer.alloc(32, 1), subjectIndex: Buffer.alloc(32, 2), sealed: Buffer.from('sealed elsewhere') }]);
      await writer.commit({
        batchId: 'uplink-crashed', dataset: DATASET, source: 'operator', contentHash: 'c'.repeat(64), format: 'csv', rowCount: 1,
        asOf: '2026-11-01', receivedAt: new Date().toISOString(),
      }, (transaction) => runtime.uplink.beforeCommit(transaction));
      runtime.uplink.worker.nudge();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const waiting = await manifestOf(runtime, 'uplink-crashed');
      expect(waiting).to.deep.include({ state: 'pending', attempts: 0, batchAuditIndex: undefined, jwe: undefined });
      expect(target.manifests.has(waiting.manifestId)).to.equal(false);
      // The next start writes the entry (auditUnloggedBatches); the manifest then names it.
      expect(await auditUnloggedBatches(runtime.store, runtime.audit.log)).to.equal(1);
      runtime.uplink.worker.nudge();
      const manifest = await acknowledged(runtime, 'uplink-crashed');
      const [entry] = (await auditEntries(runtime, 'ingest.batch')).filter((found) => found['batch_id'] === 'uplink-crashed');
      expect(target.manifests.get(manifest.manifestId)?.claims.audit.index).to.equal(manifest.batchAuditIndex).and.to.be.a('number');
      expect(entry?.['recovered']).to.equal(true);
    });

    it('sends again while the platform is down, and the manifest is acknowledged once it is up', async function () {
      target.mode = 'down';
      await ingest(runtime, 'uplink-down', 3);
      const failing = await until('two failed attempts', async () => {
        const manifest = await manifestOf(runtime, 'uplink-down');
        return manifest.attempts >= 2 ? manifest : undefined;
      });
      expect(failing.state).to.equal('pending');
      expect(failing.lastError).to.match(/^HTTP 503/);
      target.mode = 'up';
      const manifest = await acknowledged(runtime, 'uplink-down');
      expect(manifest.attempts).to.be.greaterThan(2);
      expect(manifest.lastError).to.equal(undefined);
      expect(manifest.jwe).to.equal(failing.jwe);
    });

    it('does not take a receipt whose signature does not verify, or a 2xx without one, for an acknowledgement', async function () {
      target.mode = 'bad_receipt_signature';
      await ingest(runtime, 'uplink-bad-receipt', 4);
      const refused = await until('failed attempts with a bad receipt', async () => {
        const manifest = await manifestOf(runtime, 'uplink-bad-receipt');
        return manifest.attempts >= 2 ? manifest : undefined;
      });
      expect(refused.state).to.equal('pending');
      expect(refused.receipt).to.equal(undefined);
      expect(refused.lastError).to.match(/without a valid receipt: the receipt does not verify \(signature\)/);
      expect(target.manifests.has(refused.manifestId), 'the platform received it').to.equal(true);
      target.mode = 'no_receipt';
      const unanswered = await until('a failed attempt without a receipt', async () => {
        const manifest = await manifestOf(runtime, 'uplink-bad-receipt');
        return manifest.lastError?.includes('does not verify (malformed)') ? manifest : undefined;
      });
      expect(unanswered.state).to.equal('pending');
      target.mode = 'up';
      const manifest = await acknowledged(runtime, 'uplink-bad-receipt');
      const entries = (await auditEntries(runtime, 'uplink.acknowledged')).filter((entry) => entry['manifest_id'] === manifest.manifestId);
      expect(entries).to.have.length(1);
    });
  });

  it('dead-letters a manifest after the retry horizon, and `gateway uplink replay` sends it again', async function () {
    const target = await platform();
    const dir = root();
    target.mode = 'down';
    const { runtime } = await uplinked(target, dir, { GATEWAY_UPLINK_RETRY_HORIZON_SECONDS: '1' });
    await ingest(runtime, 'uplink-dead', 5);
    const dead = await until('the manifest to be dead-lettered', async () => {
      const manifest = await manifestOf(runtime, 'uplink-dead');
      return manifest.state === 'dead' ? manifest : undefined;
    });
    expect(dead.lastError).to.match(/^HTTP 503/);
    const letters = await auditEntries(runtime, 'uplink.dead_lettered');
    expect(letters.map((entry) => [entry['manifest_id'], entry['batch_id'], entry['actor']])).to.deep.equal([[dead.manifestId, 'uplink-dead', 'gateway']]);

    // The operator's command runs beside the serving gateway, on the same data directory, without the uplink's keys.
    const cliEnv = {};
    const listed = json<{ manifest_id: string; state: string; batch_id: string; last_error: string }[]>(
      succeeded(await runCli(dir, ['uplink', 'list', '--json'], cliEnv)));
    expect(listed.map((row) => [row.manifest_id, row.batch_id, row.state])).to.deep.equal([[dead.manifestId, 'uplink-dead', 'dead']]);
    failedWith(await runCli(dir, ['uplink', 'replay', 'no-such-manifest', '--json'], cliEnv), 'not_found');

    target.mode = 'up';
    const replayed = json<{ replayed: string[] }>(succeeded(await runCli(dir, ['uplink', 'replay', dead.manifestId, '--json'], cliEnv)));
    expect(replayed.replayed).to.deep.equal([dead.manifestId]);
    expect((await auditEntries(runtime, 'uplink.replayed')).map((entry) => [entry['actor'], entry['manifest_ids']])).to.deep.equal([['operator', [dead.manifestId]]]);
    // The serving process polls: the replayed manifest is sent again from the start of a new horizon.
    const manifest = await acknowledged(runtime, 'uplink-dead');
    expect(manifest.jwe).to.equal(dead.jwe);
    const all = json<{ state: string }[]>(succeeded(await runCli(dir, ['uplink', 'list', '--state', 'acknowledged', '--json'], cliEnv)));
    expect(all.map((row) => row.state)).to.deep.equal(['acknowledged']);
    const ofBatch = json<{ manifest_id: string; received_at: string }[]>(succeeded(await runCli(dir, ['uplink', 'list', '--batch', 'uplink-dead', '--json'], cliEnv)));
    expect(ofBatch.map((row) => [row.manifest_id, row.received_at])).to.deep.equal([[dead.manifestId, manifest.receipt?.receivedAt]]);
  });

  it('queues, once, the batches stored before the uplink was enabled when it first is', async function () {
    const dir = root();
    const before = await gateway(dir, {});
    const earlier = await ingest(before.runtime, 'uplink-before-1', 6);
    await ingest(before.runtime, 'uplink-before-2', 7);
    expect(await before.runtime.store.getManifestOfBatch(earlier.batchId)).to.equal(undefined);
    await before.running.stop();
    served.splice(served.indexOf(before), 1);

    const target = await platform();
    const { runtime, running } = await uplinked(target, dir);
    const first = await acknowledged(runtime, 'uplink-before-1');
    const second = await acknowledged(runtime, 'uplink-before-2');
    expect(first.manifestId).to.not.equal(second.manifestId);
    expect(target.manifests.get(first.manifestId)?.claims.batch.content_sha256).to.equal(earlier.contentHash);
    expect(await runtime.uplink.backfill()).to.equal(0);
    const counts = await runtime.store.countManifests();
    expect(counts).to.deep.equal({ pending: 0, acknowledged: 2, dead: 0 });
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).to.match(/^gateway_uplink_manifests\{state="acknowledged"\} 2$/m);
    expect(metrics).to.match(/^gateway_uplink_manifests\{state="dead"\} 0$/m);
  });
});
