/**
 * The storage contract (gateway/store/store.ts) as a suite any engine must pass: call storeContract with a factory
 * for that engine.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../gateway/errors/index.js';
import { rejection } from '../support/rejection.js';
import type { BatchMetadata, ParticipantRecord, Store } from '../../gateway/store/index.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  create(): Promise<Store>;
  /** Another connection to the database `create` made last: after a close, durability; alongside, concurrency. */
  reopen(): Promise<Store>;
  /** Removes the database `create` made last (its stores are closed first). */
  dispose(): Promise<void>;
}

function index(label: string): Buffer {
  return Buffer.from(label.padEnd(16, '.').slice(0, 16), 'utf8');
}

function metadata(batchId: string, contentHash: string, asOf: string, rowCount: number): BatchMetadata {
  return { batchId, dataset: 'water_accounts', source: 'contract', contentHash, format: 'ndjson', rowCount, asOf, receivedAt: '2026-11-25T00:00:00.000Z' };
}

async function writeBatch(store: Store, batchId: string, asOf: string, keys: readonly string[], contentHash = randomBytes(8).toString('hex')) {
  const writer = await store.beginBatch('water_accounts');
  const earlier = await writer.add(keys.map((key, i) => ({ rowNumber: i + 1, keyIndex: index(key), subjectIndex: index('subject-A'), sealed: Buffer.from(`${batchId}:${key}`) })));
  expect(earlier).to.deep.equal(keys.map(() => undefined));
  return writer.commit(metadata(batchId, contentHash, asOf, keys.length));
}

function enterprise(participantId: string, uscc: string): ParticipantRecord {
  return {
    participantId, role: 'enterprise', name: participantId, uscc, datasets: [], status: 'active', certificatePem: `pem of ${participantId}`,
    certificateSha256: `sha256-of-${participantId}`, notAfter: '2027-01-01T00:00:00.000Z', createdAt: '2026-11-25T00:00:00.000Z',
    statusChangedAt: '2026-11-25T00:00:00.000Z',
  };
}

async function codeOf(work: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await work();
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
  return undefined;
}

async function sealedTexts(store: Store, includeHistory = false): Promise<string[]> {
  return (await store.recordsBySubject('water_accounts', index('subject-A'), { includeHistory })).map((record) => Buffer.from(record.sealed).toString());
}

export function storeContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract: ${engine}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    it('makes a batch visible only when it commits', async () => {
      const writer = await store.beginBatch('water_accounts');
      await writer.add([{ rowNumber: 1, keyIndex: index('k1'), subjectIndex: index('subject-A'), sealed: Buffer.from('x') }]);
      expect(await store.countRecords()).to.equal(0);
      await writer.commit(metadata('b1', 'h1', '2026-01-01', 1));
      expect(await store.countRecords('water_accounts')).to.equal(1);
    });

    it('stores nothing of an aborted batch', async () => {
      const writer = await store.beginBatch('water_accounts');
      await writer.add([{ rowNumber: 1, keyIndex: index('k1'), subjectIndex: index('subject-A'), sealed: Buffer.from('x') }]);
      await writer.abort();
      expect(await store.countRecords()).to.equal(0);
      expect(await store.findBatchById('b1')).to.equal(undefined);
    });

    it('reports a natural key repeated inside a batch with the earlier row', async () => {
      const writer = await store.beginBatch('water_accounts');
      expect((await writer.add([{ rowNumber: 1, keyIndex: index('k1'), subjectIndex: index('s'), sealed: Buffer.from('a') }]))[0]).to.equal(undefined);
      expect((await writer.add([{ rowNumber: 2, keyIndex: index('k2'), subjectIndex: index('s'), sealed: Buffer.from('b') }]))[0]).to.equal(undefined);
      expect((await writer.add([{ rowNumber: 3, keyIndex: index('k1'), subjectIndex: index('s'), sealed: Buffer.from('c') }]))[0]).to.equal(1);
      await writer.abort();
    });

    it('treats the same content as a duplicate and writes nothing', async () => {
      expect((await writeBatch(store, 'b1', '2026-01-01', ['k1'], 'same')).outcome).to.equal('stored');
      const again = (await writeBatch(store, 'b2', '2026-01-01', ['k1'], 'same'));
      expect(again.outcome).to.equal('duplicate');
      expect(again.batch.batchId).to.equal('b1');
      expect(await store.countRecords()).to.equal(1);
    });

    it('refuses a batch id reused for different content', async () => {
      await writeBatch(store, 'b1', '2026-01-01', ['k1'], 'one');
      expect(await codeOf(() => writeBatch(store, 'b1', '2026-01-01', ['k1'], 'two'))).to.equal('batch_id_conflict');
      expect(await store.countRecords()).to.equal(1);
    });

    it('supersedes the current record of a key with a newer one and keeps the old as history', async () => {
      await writeBatch(store, 'jan', '2026-01-31', ['k1', 'k2']);
      await writeBatch(store, 'feb', '2026-02-28', ['k1']);
      expect((await sealedTexts(store)).sort()).to.deep.equal(['feb:k1', 'jan:k2']);
      const history = await store.recordsBySubject('water_accounts', index('subject-A'), { includeHistory: true });
      expect(history).to.have.length(3);
      expect(history.find((record) => Buffer.from(record.sealed).toString() === 'jan:k1')?.supersededBy).to.equal('feb');
    });

    it('keeps a late-arriving older record as history, not current', async () => {
      await writeBatch(store, 'feb', '2026-02-28', ['k1']);
      await writeBatch(store, 'jan', '2026-01-31', ['k1']);
      expect(await sealedTexts(store)).to.deep.equal(['feb:k1']);
      expect((await sealedTexts(store, true)).sort()).to.deep.equal(['feb:k1', 'jan:k1']);
    });

    it('gives each record of a batch its own id and provenance', async () => {
      await writeBatch(store, 'b1', '2026-01-31', ['k1', 'k2']);
      const records = await store.recordsBySubject('water_accounts', index('subject-A'));
      expect(new Set(records.map((record) => record.recordId)).size).to.equal(2);
      expect(records[0]).to.include({ batchId: 'b1', source: 'contract', asOf: '2026-01-31', supersededBy: undefined });
    });

    it('keeps committed batches and data keys across a reopen', async () => {
      await writeBatch(store, 'b1', '2026-01-31', ['k1']);
      const keyId = await store.addDataKey(() => Buffer.from('wrapped'), '2026-01-01T00:00:00Z');
      await store.close();
      store = await factory.reopen();
      expect(await store.countRecords()).to.equal(1);
      expect((await store.findBatchById('b1'))?.rowCount).to.equal(1);
      expect((await store.listDataKeys()).map((key) => key.keyId)).to.deep.equal([keyId]);
    });

    it('lets one enterprise participant that is not revoked act for a USCC, and a replacement revoke the old one atomically', async () => {
      await store.addParticipant(enterprise('ent-a', '91350100M000100Y43'));
      expect(await codeOf(() => store.addParticipant(enterprise('ent-b', '91350100M000100Y43')))).to.equal('participant_exists');
      expect(await store.getParticipant('ent-b')).to.equal(undefined);
      await store.setParticipantStatus('ent-a', 'suspended', '2026-11-26T00:00:00.000Z');
      expect(await codeOf(() => store.addParticipant(enterprise('ent-b', '91350100M000100Y43')))).to.equal('participant_exists');
      expect((await store.enterpriseForUscc('91350100M000100Y43'))?.participantId).to.equal('ent-a');
      await store.addParticipant(enterprise('ent-b', '91350100M000100Y43'), 'ent-a');
      expect((await store.getParticipant('ent-a'))?.status).to.equal('revoked');
      expect((await store.enterpriseForUscc('91350100M000100Y43'))?.participantId).to.equal('ent-b');
      // A replacement that fails adds nothing and revokes nothing.
      expect(await codeOf(() => store.addParticipant(enterprise('ent-c', '91350100M000100Y43'), 'ent-a'))).to.equal('invalid_status_change');
      expect(await store.getParticipant('ent-c')).to.equal(undefined);
      expect((await store.getParticipant('ent-b'))?.status).to.equal('active');
      // Revoked, the USCC is free again.
      await store.setParticipantStatus('ent-b', 'revoked', '2026-11-27T00:00:00.000Z');
      expect(await store.enterpriseForUscc('91350100M000100Y43')).to.equal(undefined);
      await store.addParticipant(enterprise('ent-d', '91350100M000100Y43'));
    });

    it('holds a transaction whose callback awaits: calls made meanwhile run after it commits, and a throw rolls it back whole', async () => {
      const subscription = (subscriptionId: string) => ({
        subscriptionId, bankId: 'bank-1', consentId: `consent-${subscriptionId}`, uscc: '91350100M000100Y43', subjectIndex: index('subject-A'),
        rules: ['arrears_started'], createdAt: '2026-11-26T00:00:00.000Z', auditIndex: 1,
      });
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const adding = store.addSubscription(subscription('s-1'), async () => {
        await held;
        order.push('baseline');
        return [{ subscriptionId: 's-1', questionId: 'medical_arrears_now', answer: 'false' }];
      });
      const reading = store.getSubscription('s-1').then((found) => {
        order.push('read');
        return found;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await adding;
      expect((await reading)?.subscriptionId).to.equal('s-1');
      expect(order).to.deep.equal(['baseline', 'read']);

      expect((await rejection(store.addSubscription(subscription('s-2'), async () => {
        throw new Error('the baseline failed');
      }))).message).to.equal('the baseline failed');
      expect(await store.getSubscription('s-2')).to.equal(undefined);
      expect(await store.activeSubscriptionsOfConsent('consent-s-2')).to.deep.equal([]);
    });

    it('replaces sealed bytes for re-encryption', async () => {
      await writeBatch(store, 'b1', '2026-01-31', ['k1']);
      const [row] = await store.scanSealed(0, 10);
      await store.replaceSealed([{ recordId: row!.recordId, sealed: Buffer.from('resealed') }]);
      expect(await sealedTexts(store)).to.deep.equal(['resealed']);
    });
  });
}
