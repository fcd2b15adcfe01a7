/**
 * The storage contract of the national uplink's outbox (UplinkStore in gateway/store/uplinkStore.ts) as a suite any
 * engine must pass.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Store, UplinkManifest, UplinkReceipt } from '../../gateway/store/index.js';
import type { StoreFactory } from './contract.js';
import { batchMetadata, DATASET, sealedRecords } from './fixtures.js';

const QUEUED_AT = '2026-11-25T00:00:00.000Z';
const QUEUED_MS = Date.parse(QUEUED_AT);

/** Commits a batch of one record and, when `manifestId` is given, queues its manifest inside the batch's transaction. */
async function commitBatch(store: Store, batchId: string, manifestId?: string, fail?: boolean): Promise<void> {
  const writer = await store.beginBatch(DATASET);
  await writer.add(sealedRecords(batchId, ['k1']));
  await writer.commit(batchMetadata(batchId, randomBytes(8).toString('hex'), '2026-11-01', 1), async (transaction) => {
    if (manifestId !== undefined) await transaction.queueManifest(manifestId, QUEUED_AT);
    if (fail) throw new Error('the batch fails after queueing its manifest');
  });
}

function ids(manifests: readonly UplinkManifest[]): string[] {
  return manifests.map((manifest) => manifest.manifestId);
}

function receipt(auditIndex: number): UplinkReceipt {
  return { jws: 'receipt.jws.value', receivedAt: '2026-11-25T00:00:01.000Z', acknowledgedAt: '2026-11-25T00:00:02.000Z', auditIndex };
}

export function uplinkStoreContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract, uplink: ${engine}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    it('queues a manifest inside the batch\'s transaction: it exists exactly when the batch does', async () => {
      await commitBatch(store, 'b-1', 'm-1');
      const queued = await store.getManifest('m-1');
      expect(queued).to.deep.include({
        manifestId: 'm-1', state: 'pending', attempts: 0, retryFrom: QUEUED_MS, nextAttemptAt: QUEUED_MS, jwe: undefined, lastError: undefined,
        receipt: undefined, batchAuditIndex: undefined, createdAt: QUEUED_AT,
      });
      expect(queued?.batch).to.deep.equal(await store.findBatchById('b-1'));
      expect((await store.getManifestOfBatch('b-1'))?.manifestId).to.equal('m-1');
      await commitBatch(store, 'b-2', 'm-2', true).catch(() => undefined);
      expect(await store.findBatchById('b-2')).to.equal(undefined);
      expect(await store.getManifest('m-2')).to.equal(undefined);
    });

    it('backfills batches without a manifest once: a batch keeps the first manifest queued for it', async () => {
      await commitBatch(store, 'b-old-1');
      await commitBatch(store, 'b-old-2');
      await commitBatch(store, 'b-new', 'm-new');
      expect(await store.batchesWithoutManifest(10)).to.deep.equal(['b-old-1', 'b-old-2']);
      expect(await store.batchesWithoutManifest(1)).to.deep.equal(['b-old-1']);
      const queued = await store.queueManifests([
        { manifestId: 'm-old-1', batchId: 'b-old-1', createdAt: QUEUED_AT },
        { manifestId: 'm-old-2', batchId: 'b-old-2', createdAt: QUEUED_AT },
        { manifestId: 'm-again', batchId: 'b-new', createdAt: QUEUED_AT },
        { manifestId: 'm-nobody', batchId: 'b-nobody', createdAt: QUEUED_AT },
      ]);
      expect(queued).to.equal(2);
      expect(await store.batchesWithoutManifest(10)).to.deep.equal([]);
      expect(await store.getManifest('m-again')).to.equal(undefined);
      expect(ids(await store.listManifests({}, 0, 10))).to.deep.equal(['m-new', 'm-old-1', 'm-old-2']);
      expect(await store.queueManifests([{ manifestId: 'm-old-1-again', batchId: 'b-old-1', createdAt: QUEUED_AT }])).to.equal(0);
    });

    it('has a manifest fall due only once its batch has its audit entry, and when its next attempt is due', async () => {
      await commitBatch(store, 'b-1', 'm-1');
      await commitBatch(store, 'b-2', 'm-2');
      expect(await store.dueManifests(QUEUED_MS, 10)).to.deep.equal([]);
      await store.markBatchAudited('b-2', 7);
      expect(ids(await store.dueManifests(QUEUED_MS, 10))).to.deep.equal(['m-2']);
      expect((await store.getManifest('m-2'))?.batchAuditIndex).to.equal(7);
      await store.markBatchAudited('b-1', 6);
      expect(ids(await store.dueManifests(QUEUED_MS, 10))).to.deep.equal(['m-1', 'm-2']);
      expect(ids(await store.dueManifests(QUEUED_MS, 1))).to.deep.equal(['m-1']);
      expect(await store.dueManifests(QUEUED_MS - 1, 10)).to.deep.equal([]);
    });

    it('keeps the first seal, counts failures, dead-letters, replays and acknowledges once', async () => {
      await commitBatch(store, 'b-1', 'm-1');
      await store.markBatchAudited('b-1', 3);
      await store.markManifestSealed('m-1', 'first.jwe');
      await store.markManifestSealed('m-1', 'second.jwe');
      expect((await store.getManifest('m-1'))?.jwe).to.equal('first.jwe');

      await store.markManifestFailed('m-1', { attempts: 1, nextAttemptAt: QUEUED_MS + 1000, error: 'HTTP 503', dead: false });
      expect(await store.getManifest('m-1')).to.deep.include({ state: 'pending', attempts: 1, nextAttemptAt: QUEUED_MS + 1000, lastError: 'HTTP 503' });
      expect(await store.dueManifests(QUEUED_MS, 10)).to.deep.equal([]);
      await store.markManifestFailed('m-1', { attempts: 2, nextAttemptAt: QUEUED_MS + 2000, error: 'x'.repeat(600), dead: true });
      const dead = await store.getManifest('m-1');
      expect(dead).to.deep.include({ state: 'dead', attempts: 2 });
      expect(dead?.lastError).to.have.length(500);
      expect(await store.countManifests()).to.deep.equal({ pending: 0, acknowledged: 0, dead: 1 });
      expect(ids(await store.listManifests({ state: 'dead' }, 0, 10))).to.deep.equal(['m-1']);
      // A dead manifest is neither due nor acknowledged until it is replayed.
      expect(await store.markManifestAcknowledged('m-1', receipt(9))).to.equal(false);
      expect(await store.dueManifests(QUEUED_MS + 10_000, 10)).to.deep.equal([]);

      expect(await store.replayManifests(['m-1', 'm-nobody'], QUEUED_MS + 5000)).to.deep.equal(['m-1']);
      expect(await store.getManifest('m-1')).to.deep.include({
        state: 'pending', attempts: 0, retryFrom: QUEUED_MS + 5000, nextAttemptAt: QUEUED_MS + 5000, lastError: undefined, jwe: 'first.jwe',
      });
      expect(await store.replayManifests('all_dead', QUEUED_MS + 6000)).to.deep.equal([]);

      expect(await store.markManifestAcknowledged('m-1', receipt(9))).to.equal(true);
      expect(await store.markManifestAcknowledged('m-1', receipt(10))).to.equal(false);
      expect(await store.getManifest('m-1')).to.deep.include({ state: 'acknowledged', attempts: 1, receipt: receipt(9) });
      // An acknowledged manifest stays so: a late failure of an attempt cut off earlier changes nothing.
      await store.markManifestFailed('m-1', { attempts: 5, nextAttemptAt: 0, error: 'late', dead: true });
      expect(await store.getManifest('m-1')).to.deep.include({ state: 'acknowledged', attempts: 1 });
      expect(await store.countManifests()).to.deep.equal({ pending: 0, acknowledged: 1, dead: 0 });
    });

    it('replays every dead manifest with all_dead', async () => {
      for (const n of [1, 2, 3]) await commitBatch(store, `b-${n}`, `m-${n}`);
      for (const n of [1, 3]) await store.markManifestFailed(`m-${n}`, { attempts: 1, nextAttemptAt: QUEUED_MS, error: 'down', dead: true });
      expect((await store.replayManifests('all_dead', QUEUED_MS + 1)).sort()).to.deep.equal(['m-1', 'm-3']);
      expect(await store.countManifests()).to.deep.equal({ pending: 3, acknowledged: 0, dead: 0 });
    });

    it('keeps manifests and their receipts across a reopen', async () => {
      await commitBatch(store, 'b-1', 'm-1');
      await store.markBatchAudited('b-1', 1);
      await store.markManifestSealed('m-1', 'sealed.jwe');
      await store.markManifestAcknowledged('m-1', receipt(2));
      await store.close();
      store = await factory.reopen();
      expect(await store.getManifest('m-1')).to.deep.include({ state: 'acknowledged', jwe: 'sealed.jwe', receipt: receipt(2), batchAuditIndex: 1 });
    });
  });
}
