/**
 * The storage contract of subject facts (FactsStore in gateway/store/factsStore.ts) as a suite any engine must pass:
 * facts are served only while their dataset's generation stands, which a committed or purged batch changes; a late
 * writer never replaces newer facts; purging and destroying a data key erase the facts they concern.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { sealedHeaders } from '../../gateway/crypto/envelope.js';
import type { SealedRecord, Store, SubjectFactsRow } from '../../gateway/store/index.js';
import type { StoreFactory } from './contract.js';
import { batchMetadata, blindIndex, DATASET } from './fixtures.js';

const AT = '2026-12-01T00:00:00.000Z';
const SUBJECT = blindIndex('subject-A');
const OTHER = blindIndex('subject-B');

/** Facts bytes with the envelope header of `keyId` (the rest is filler: the store never opens them). */
function facts(keyId: number, label: string): Buffer {
  return Buffer.concat([sealedHeaders(keyId)[0] as Buffer, Buffer.from(label.padEnd(28, '.'))]);
}

async function commit(store: Store, batchId: string, asOf: string, keyId: number): Promise<void> {
  const records: SealedRecord[] = [{ rowNumber: 1, keyIndex: blindIndex(batchId), subjectIndex: SUBJECT, sealed: facts(keyId, batchId) }];
  const writer = await store.beginBatch(DATASET);
  await writer.add(records);
  await writer.commit(batchMetadata(batchId, randomBytes(8).toString('hex'), asOf, records.length));
}

function labels(rows: readonly SubjectFactsRow[]): string[] {
  return rows.map((row) => `${Buffer.from(row.subjectIndex).toString('utf8').replace(/\.+$/, '')}@${row.generation}`).sort();
}

export function factsStoreContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract, subject facts: ${engine}`, () => {
    let store: Store;
    let keyId: number;
    beforeEach(async () => {
      store = await factory.create();
      keyId = await store.addDataKey((id) => Buffer.from(`wrapped ${id}`), AT);
    });
    afterEach(async () => {
      await store.close();
    });

    it('gives generation 0 for a dataset no batch has committed to, and stores no facts for it', async () => {
      const read = await store.subjectFacts([SUBJECT], [DATASET]);
      expect(read).to.deep.equal({ generations: { [DATASET]: 0 }, facts: [] });
    });

    it('serves facts only while their generation is the dataset\'s: a committed batch ends them', async () => {
      await commit(store, 'first', '2026-10-31', keyId);
      const { generations } = await store.subjectFacts([SUBJECT], [DATASET]);
      const generation = generations[DATASET] as number;
      expect(generation).to.be.greaterThan(0);
      await store.putSubjectFacts([
        { subjectIndex: SUBJECT, dataset: DATASET, generation, sealed: facts(keyId, 'A') },
        { subjectIndex: OTHER, dataset: DATASET, generation, sealed: facts(keyId, 'B') },
      ]);
      const served = await store.subjectFacts([SUBJECT, OTHER], [DATASET]);
      expect(labels(served.facts)).to.deep.equal([`subject-A@${generation}`, `subject-B@${generation}`]);
      expect((await store.subjectFacts([SUBJECT], [DATASET])).facts.map((row) => Buffer.from(row.sealed))).to.deep.equal([facts(keyId, 'A')]);

      await commit(store, 'second', '2026-11-30', keyId);
      const after = await store.subjectFacts([SUBJECT, OTHER], [DATASET]);
      expect(after.generations[DATASET]).to.be.greaterThan(generation);
      expect(after.facts).to.deep.equal([]);
    });

    it('never lets facts of an earlier generation replace later ones', async () => {
      await commit(store, 'first', '2026-10-31', keyId);
      const early = (await store.subjectFacts([SUBJECT], [DATASET])).generations[DATASET] as number;
      await commit(store, 'second', '2026-11-30', keyId);
      const late = (await store.subjectFacts([SUBJECT], [DATASET])).generations[DATASET] as number;
      await store.putSubjectFacts([{ subjectIndex: SUBJECT, dataset: DATASET, generation: late, sealed: facts(keyId, 'late') }]);
      // A reader that read the generation before the second batch finishes deriving after it.
      await store.putSubjectFacts([{ subjectIndex: SUBJECT, dataset: DATASET, generation: early, sealed: facts(keyId, 'early') }]);
      const served = await store.subjectFacts([SUBJECT], [DATASET]);
      expect(served.facts.map((row) => Buffer.from(row.sealed))).to.deep.equal([facts(keyId, 'late')]);
    });

    it('erases a dataset\'s facts when one of its batches is purged, and moves its generation on', async () => {
      await commit(store, 'old', '2018-06-30', keyId);
      await commit(store, 'recent', '2026-11-30', keyId);
      const generation = (await store.subjectFacts([SUBJECT], [DATASET])).generations[DATASET] as number;
      await store.putSubjectFacts([{ subjectIndex: SUBJECT, dataset: DATASET, generation, sealed: facts(keyId, 'A') }]);
      expect(await store.purgeBatch('old', AT, 1)).to.equal(1);
      const after = await store.subjectFacts([SUBJECT], [DATASET]);
      expect(after.generations[DATASET]).to.be.greaterThan(generation);
      expect(after.facts).to.deep.equal([]);
      // Deleted, not only hidden: the facts may hold the purged records. Relabelled to the new generation (as a
      // database edit would), nothing of them is left to serve.
      await store.putSubjectFacts([{ subjectIndex: OTHER, dataset: DATASET, generation: after.generations[DATASET] as number, sealed: facts(keyId, 'B') }]);
      expect(labels((await store.subjectFacts([SUBJECT, OTHER], [DATASET])).facts)).to.deep.equal([`subject-B@${after.generations[DATASET]}`]);
    });

    it('erases the facts sealed under a data key when the key is destroyed', async () => {
      const newer = await store.addDataKey((id) => Buffer.from(`wrapped ${id}`), AT);
      await commit(store, 'under-newer', '2026-11-30', newer);
      const generation = (await store.subjectFacts([SUBJECT], [DATASET])).generations[DATASET] as number;
      await store.putSubjectFacts([
        { subjectIndex: SUBJECT, dataset: DATASET, generation, sealed: facts(keyId, 'under-old') },
        { subjectIndex: OTHER, dataset: DATASET, generation, sealed: facts(newer, 'under-newer') },
      ]);
      expect(await store.destroyDataKey(keyId, AT)).to.equal('destroyed');
      expect(labels((await store.subjectFacts([SUBJECT, OTHER], [DATASET])).facts)).to.deep.equal([`subject-B@${generation}`]);
    });
  });
}
