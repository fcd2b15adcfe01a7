/**
 * The audit log's storage contract (gateway/store/auditStore.ts) as a suite any engine must pass: call
 * auditStoreContract with a factory for that engine. Where the contract is about the log, the suite goes through
 * createAuditLog (gateway/audit/log.ts), which computes the stored hashes.
 */
import { expect } from 'chai';
import { storedHashCount, storedHashesForRecord } from '../../gateway/audit/merkle.js';
import { createAuditLog } from '../../gateway/audit/log.js';
import type { AuditEvent } from '../../gateway/audit/events.js';
import { leafHash } from '../../gateway/crypto/merkleHash.js';
import type { AuditStore, NewAuditEntry, StoredCheckpoint } from '../../gateway/store/index.js';
import { rejection } from '../support/rejection.js';

export interface AuditStoreFactory {
  /** A fresh, empty audit store. */
  create(): Promise<AuditStore>;
  /** Another connection to the database `create` made last: after a close, durability; alongside, concurrency. */
  reopen(): Promise<AuditStore>;
  /** Removes the database `create` made last (its stores are closed first). */
  dispose(): Promise<void>;
}

function event(actor: string, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return { kind: 'audit.read', actor, details: {}, ...overrides };
}

function rawEntry(label: string): NewAuditEntry {
  return { entry: Buffer.from(`{"entry":"${label}"}`), kind: 'audit.read', actor: 'contract', subject: undefined, consentId: undefined, recordedAt: '2026-11-25T00:00:00.000Z' };
}

function checkpoint(treeSize: number, note = `checkpoint at ${treeSize}`): StoredCheckpoint {
  return { treeSize, rootHash: Buffer.alloc(32, treeSize), note, createdAt: '2026-11-25T00:00:00.000Z' };
}

/** Appends one entry straight to the store, its stored hashes computed as the log does; `seen` gets the size build was given. */
async function appendRaw(store: AuditStore, label: string, seen: number[] = []): Promise<{ firstIndex: number; size: number }> {
  return store.append(async (size) => {
    seen.push(size);
    const entry = rawEntry(label);
    return { entries: [entry], hashes: await storedHashesForRecord(size, leafHash(entry.entry), (indexes) => store.readHashes(indexes)) };
  });
}

export function auditStoreContract(engine: string, factory: AuditStoreFactory): void {
  describe(`audit storage contract: ${engine}`, () => {
    let store: AuditStore;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    it('starts empty: size 0, no entries, no checkpoint', async () => {
      expect(await store.size()).to.equal(0);
      expect(await store.entries({ start: 0, end: 10, limit: 10 })).to.deep.equal([]);
      expect(await store.latestCheckpoint()).to.equal(undefined);
      expect(await store.checkpoints()).to.deep.equal([]);
    });

    it('gives build the size at that moment and the entries consecutive indexes from it', async () => {
      const seen: number[] = [];
      expect(await appendRaw(store, 'first', seen)).to.deep.equal({ firstIndex: 0, size: 1 });
      expect(await appendRaw(store, 'second', seen)).to.deep.equal({ firstIndex: 1, size: 2 });
      const two = await store.append(async (size) => {
        seen.push(size);
        const entries = [rawEntry('third'), rawEntry('fourth')];
        const hashes = [...await storedHashesForRecord(size, leafHash(entries[0]!.entry), (indexes) => store.readHashes(indexes))];
        // The second entry's hashes may read the first's, which are not stored yet.
        const firstHash = storedHashCount(size);
        hashes.push(...await storedHashesForRecord(size + 1, leafHash(entries[1]!.entry), async (indexes) =>
          Promise.all(indexes.map(async (index) => (index >= firstHash ? hashes[index - firstHash]! : (await store.readHashes([index]))[0]!)))));
        return { entries, hashes };
      });
      expect(two).to.deep.equal({ firstIndex: 2, size: 4 });
      expect(seen).to.deep.equal([0, 1, 2]);
      expect(await store.size()).to.equal(4);
      expect((await store.entries({ start: 0, end: 4, limit: 10 })).map((entry) => [entry.index, Buffer.from(entry.entry).toString()])).to.deep.equal([
        [0, '{"entry":"first"}'], [1, '{"entry":"second"}'], [2, '{"entry":"third"}'], [3, '{"entry":"fourth"}'],
      ]);
    });

    it('stores nothing of an append whose build throws, and the next append takes its index', async () => {
      await appendRaw(store, 'first');
      const failure = await rejection(store.append(async () => {
        throw new Error('the build failed');
      }));
      expect(failure.message).to.equal('the build failed');
      expect(await store.size()).to.equal(1);
      expect(await rejection(store.readHashes([storedHashCount(1)]))).to.be.an('error');
      expect(await appendRaw(store, 'second')).to.deep.equal({ firstIndex: 1, size: 2 });
    });

    it('stores an entry as given, through the log, with consecutive indexes for appends made at once', async () => {
      const log = createAuditLog(store, () => new Date('2026-11-25T08:00:00.000Z'));
      const first = await log.append(event('bank-1', { subject: 'USCC-1', consentId: 'c-1', details: { n: 1 } }));
      expect(first.index).to.equal(0);
      const together = await Promise.all(Array.from({ length: 5 }, (_, n) => log.append(event('bank-1', { details: { n } }))));
      expect(together.map((appended) => appended.index)).to.deep.equal([1, 2, 3, 4, 5]);
      const [stored] = await store.entries({ start: 0, end: 1, limit: 1 });
      expect(stored).to.deep.include({ index: 0, kind: 'audit.read', actor: 'bank-1', subject: 'USCC-1', consentId: 'c-1', recordedAt: '2026-11-25T08:00:00.000Z' });
      expect(leafHash(stored!.entry)).to.deep.equal(first.leafHash);
    });

    it('filters entries by actor, subject, consent, kind and recording time, within an index range and up to a limit, in index order', async () => {
      let clock = Date.parse('2026-11-25T00:00:00.000Z');
      const log = createAuditLog(store, () => new Date(clock));
      const events: AuditEvent[] = [
        event('bank-1', { subject: 'USCC-1', consentId: 'c-1' }),
        event('bank-2', { subject: 'USCC-2', kind: 'consent.granted' }),
        event('bank-1', { subject: 'USCC-2', consentId: 'c-2', kind: 'consent.granted' }),
        event('operator'),
        event('bank-1', { consentId: 'c-1' }),
      ];
      for (const each of events) {
        await log.append(each);
        clock += 3_600_000;
      }
      const indexes = async (query: Partial<Parameters<AuditStore['entries']>[0]>) =>
        (await store.entries({ start: 0, end: 5, limit: 10, ...query })).map((entry) => entry.index);
      expect(await indexes({})).to.deep.equal([0, 1, 2, 3, 4]);
      expect(await indexes({ actor: 'bank-1' })).to.deep.equal([0, 2, 4]);
      expect(await indexes({ subject: 'USCC-2' })).to.deep.equal([1, 2]);
      expect(await indexes({ consentId: 'c-1' })).to.deep.equal([0, 4]);
      expect(await indexes({ kind: 'consent.granted' })).to.deep.equal([1, 2]);
      expect(await indexes({ actor: 'bank-1', kind: 'consent.granted' })).to.deep.equal([2]);
      expect(await indexes({ from: '2026-11-25T01:00:00.000Z', to: '2026-11-25T03:00:00.000Z' })).to.deep.equal([1, 2]);
      expect(await indexes({ start: 1, end: 4 })).to.deep.equal([1, 2, 3]);
      expect(await indexes({ actor: 'bank-1', limit: 2 })).to.deep.equal([0, 2]);
      expect(await indexes({ actor: 'nobody' })).to.deep.equal([]);
    });

    it('reads stored hashes in the order asked, and throws for one that is missing', async () => {
      const log = createAuditLog(store);
      for (let n = 0; n < 3; n++) await log.append(event('bank-1'));
      const count = storedHashCount(3);
      const forward = await store.readHashes(Array.from({ length: count }, (_, n) => n));
      const backward = await store.readHashes(Array.from({ length: count }, (_, n) => count - 1 - n));
      expect(backward).to.deep.equal([...forward].reverse());
      expect(forward.every((hash) => hash.length === 32)).to.equal(true);
      expect(await rejection(store.readHashes([0, count]))).to.be.an('error');
    });

    it('keeps checkpoints: the first for a tree size stays, latest is the largest, all come oldest first', async () => {
      await store.addCheckpoint(checkpoint(5));
      await store.addCheckpoint(checkpoint(2));
      await store.addCheckpoint(checkpoint(9));
      await store.addCheckpoint(checkpoint(5, 'another note for 5'));
      expect(await store.checkpointAt(5)).to.deep.equal(checkpoint(5));
      expect(await store.checkpointAt(3)).to.equal(undefined);
      expect(await store.latestCheckpoint()).to.deep.equal(checkpoint(9));
      expect(await store.checkpoints()).to.deep.equal([checkpoint(2), checkpoint(5), checkpoint(9)]);
    });

    it('keeps one cosignature per witness and tree size, the first one', async () => {
      await store.addCheckpoint(checkpoint(4));
      await store.addCosignature(4, { witness: 'witness-b', signatureLine: '— witness-b AAAA' }, '2026-11-25T00:00:00.000Z');
      await store.addCosignature(4, { witness: 'witness-a', signatureLine: '— witness-a BBBB' }, '2026-11-25T00:00:01.000Z');
      await store.addCosignature(4, { witness: 'witness-a', signatureLine: '— witness-a CCCC' }, '2026-11-25T00:00:02.000Z');
      const found = await store.cosignatures(4);
      expect([...found].sort((a, b) => a.witness.localeCompare(b.witness))).to.deep.equal([
        { witness: 'witness-a', signatureLine: '— witness-a BBBB' }, { witness: 'witness-b', signatureLine: '— witness-b AAAA' },
      ]);
      expect(await store.cosignatures(5)).to.deep.equal([]);
    });

    it('keeps entries, hashes, checkpoints and cosignatures across a reopen', async () => {
      const log = createAuditLog(store);
      for (let n = 0; n < 7; n++) await log.append(event('bank-1', { details: { n } }));
      const root = await log.rootAt(7);
      await store.addCheckpoint({ ...checkpoint(7), rootHash: root });
      await store.addCosignature(7, { witness: 'witness-a', signatureLine: '— witness-a AAAA' }, '2026-11-25T00:00:00.000Z');
      await store.close();
      store = await factory.reopen();
      const reopened = createAuditLog(store);
      expect(await store.size()).to.equal(7);
      expect(await reopened.rootAt(7)).to.deep.equal(root);
      expect((await store.latestCheckpoint())?.rootHash).to.deep.equal(root);
      expect(await store.cosignatures(7)).to.have.length(1);
      expect((await reopened.append(event('bank-1'))).index).to.equal(7);
    });

    it('serialises appends from two stores on one database: 100 each give indexes 0..199 without a gap, and the same tree to both', async () => {
      const other = await factory.reopen();
      try {
        const logs = [createAuditLog(store), createAuditLog(other)];
        const appended = await Promise.all(Array.from({ length: 200 }, (_, n) => logs[n % 2]!.append(event(`actor-${n % 2}`, { details: { n } }))));
        expect(appended.map((entry) => entry.index).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 200 }, (_, n) => n));
        expect(await store.size()).to.equal(200);
        expect(await other.size()).to.equal(200);
        expect(await logs[0]!.rootAt(200)).to.deep.equal(await logs[1]!.rootAt(200));
        // Each entry is where its append said it is.
        const stored = await store.entries({ start: 0, end: 200, limit: 200 });
        expect(stored.map((entry) => leafHash(entry.entry).toString('hex'))).to.deep.equal(
          [...appended].sort((a, b) => a.index - b.index).map((entry) => entry.leafHash.toString('hex')));
        expect(await store.integrityProblems()).to.deep.equal([]);
      } finally {
        await other.close();
      }
    });

    it('finds no integrity problem in a healthy store', async () => {
      await createAuditLog(store).append(event('bank-1'));
      expect(await store.integrityProblems()).to.deep.equal([]);
    });
  });
}
