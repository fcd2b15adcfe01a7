/**
 * The storage contract of retention (RetentionStore in gateway/store/retentionStore.ts) as a suite any engine must
 * pass: purging a batch deletes its records and keeps its metadata, once; data keys are destroyed only when no
 * record is sealed under them and they are not the newest.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { sealedHeaders } from '../../gateway/crypto/envelope.js';
import type { SealedRecord, Store } from '../../gateway/store/index.js';
import type { StoreFactory } from './contract.js';
import { batchMetadata, blindIndex, DATASET } from './fixtures.js';

const AT = '2026-12-01T00:00:00.000Z';

/**
 * Records whose sealed bytes carry the envelope header of `keyId` for one cipher (0: AES-256-GCM, 1: SM4-GCM); the
 * rest is filler: the store never opens them.
 */
function recordsUnder(keyId: number, keys: readonly string[], cipher: 0 | 1 = 0): SealedRecord[] {
  return keys.map((key, offset) => ({
    rowNumber: offset + 1, keyIndex: blindIndex(key), subjectIndex: blindIndex('subject-A'),
    sealed: Buffer.concat([sealedHeaders(keyId)[cipher] as Buffer, Buffer.from(`${key}`.padEnd(28, '.'))]),
  }));
}

async function commit(store: Store, batchId: string, asOf: string, records: readonly SealedRecord[]): Promise<void> {
  const writer = await store.beginBatch(DATASET);
  await writer.add(records);
  await writer.commit(batchMetadata(batchId, randomBytes(8).toString('hex'), asOf, records.length));
}

async function addKeys(store: Store, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(await store.addDataKey((id) => Buffer.from(`wrapped ${id}`), AT));
  return ids;
}

export function retentionStoreContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract, retention: ${engine}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    it('lists unpurged batches before a date, oldest first, with their stored records', async () => {
      await commit(store, 'b-2019', '2019-06-30', recordsUnder(1, ['k1', 'k2']));
      await commit(store, 'b-2018', '2018-06-30', recordsUnder(1, ['k3']));
      await commit(store, 'b-2025', '2025-06-30', recordsUnder(1, ['k1']));
      const expired = await store.expiredBatches(DATASET, '2021-01-01', 10);
      expect(expired.map((batch) => [batch.batchId, batch.asOf, batch.storedRecords, batch.rowCount])).to.deep.equal([
        ['b-2018', '2018-06-30', 1, 1], ['b-2019', '2019-06-30', 2, 2],
      ]);
      expect(await store.expiredBatches(DATASET, '2021-01-01', 1)).to.have.length(1);
      expect(await store.expiredBatches('gas_accounts', '2030-01-01', 10)).to.deep.equal([]);
    });

    it('purges a batch: its records go, its metadata stays, other batches and their history are untouched, and again changes nothing', async () => {
      await commit(store, 'old', '2018-06-30', recordsUnder(1, ['k1', 'k2']));
      await commit(store, 'newer', '2019-06-30', recordsUnder(1, ['k1']));
      await commit(store, 'recent', '2025-06-30', recordsUnder(1, ['k9']));
      expect(await store.countRecords(DATASET)).to.equal(4);

      expect(await store.purgeBatch('newer', AT, 42)).to.equal(1);
      expect(await store.countRecords(DATASET)).to.equal(3);
      expect(await store.findBatchById('newer')).to.include({ batchId: 'newer', asOf: '2019-06-30' });
      const left = await store.recordsBySubject(DATASET, blindIndex('subject-A'), { includeHistory: true });
      expect(left.map((record) => record.batchId).sort()).to.deep.equal(['old', 'old', 'recent']);
      // old's k1 was superseded by newer: that history stays as it was.
      expect(left.find((record) => record.batchId === 'old' && record.supersededBy !== undefined)?.supersededBy).to.equal('newer');

      expect(await store.purgeBatch('newer', AT, 43)).to.equal(undefined);
      expect(await store.purgeBatch('never-stored', AT, 44)).to.equal(undefined);
      expect(await store.countRecords(DATASET)).to.equal(3);
      expect((await store.expiredBatches(DATASET, '2030-01-01', 10)).map((batch) => batch.batchId)).to.deep.equal(['old', 'recent']);
      expect(await store.countPurgedBatches()).to.deep.equal({ [DATASET]: 1 });
    });

    it('finds the keys no record is sealed under, never the newest, and destroys them for good', async () => {
      const [first, second, third] = await addKeys(store, 3) as [number, number, number];
      await commit(store, 'under-first', '2018-06-30', recordsUnder(first, ['k1']));
      await commit(store, 'under-second', '2019-06-30', recordsUnder(second, ['k2']));
      expect(await store.dataKeysWithoutRecords()).to.deep.equal([]);

      await store.purgeBatch('under-first', AT, 1);
      expect(await store.dataKeysWithoutRecords()).to.deep.equal([first]);
      expect(await store.destroyDataKey(second, AT)).to.equal('in_use');
      expect(await store.destroyDataKey(third, AT)).to.equal('in_use');
      expect(await store.destroyDataKey(first, AT)).to.equal('destroyed');
      expect(await store.destroyDataKey(first, AT)).to.equal('absent');

      expect((await store.listDataKeys()).map((key) => key.keyId)).to.deep.equal([second, third]);
      expect(await store.destroyedDataKeys()).to.deep.equal([{ keyId: first, destroyedAt: AT }]);
      expect(await store.dataKeysWithoutRecords()).to.deep.equal([]);
      expect(await store.countRecords(DATASET)).to.equal(1);
    });

    it('takes a key whose records are sealed with SM4-GCM (the 国密 profile) for in use, as one sealing AES-256-GCM', async () => {
      const [first] = await addKeys(store, 2) as [number, number];
      await commit(store, 'under-first-sm4', '2019-06-30', recordsUnder(first, ['k1'], 1));
      expect(await store.dataKeysWithoutRecords()).to.deep.equal([]);
      expect(await store.destroyDataKey(first, AT)).to.equal('in_use');
      expect(await store.countRecords(DATASET)).to.equal(1);
    });

    it('never gives a destroyed key id to a new key', async () => {
      const [first, second] = await addKeys(store, 2) as [number, number];
      expect(await store.destroyDataKey(first, AT)).to.equal('destroyed');
      await commit(store, 'under-second', '2019-06-30', recordsUnder(second, ['k1']));
      // second is destroyed once a newer key is current and its only record is purged; the next id is still fresh.
      const [third] = await addKeys(store, 1) as [number];
      await store.purgeBatch('under-second', AT, 1);
      expect(await store.destroyDataKey(second, AT)).to.equal('destroyed');
      expect(third).to.equal(second + 1);
      const [fourth] = await addKeys(store, 1) as [number];
      expect(fourth).to.equal(third + 1);
      expect((await store.destroyedDataKeys()).map((key) => key.keyId)).to.deep.equal([first, second]);
    });
  });
}
