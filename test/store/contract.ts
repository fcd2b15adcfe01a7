/**
 * The storage contract (gateway/store/store.ts) as a suite any engine must pass: call storeContract with a factory
 * for that engine.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../gateway/errors/index.js';
import type { BatchMetadata, ParticipantRecord, Store } from '../../gateway/store/index.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  create(): Store;
  /** Reopens the store `create` made last (durability). */
  reopen(): Store;
  dispose(): void;
}

function index(label: string): Buffer {
  return Buffer.from(label.padEnd(16, '.').slice(0, 16), 'utf8');
}

function metadata(batchId: string, contentHash: string, asOf: string, rowCount: number): BatchMetadata {
  return { batchId, dataset: 'water_accounts', source: 'contract', contentHash, format: 'ndjson', rowCount, asOf, receivedAt: '2026-11-25T00:00:00.000Z' };
}

function writeBatch(store: Store, batchId: string, asOf: string, keys: readonly string[], contentHash = randomBytes(8).toString('hex')) {
  const writer = store.beginBatch('water_accounts');
  keys.forEach((key, i) => {
    expect(writer.add({ rowNumber: i + 1, keyIndex: index(key), subjectIndex: index('subject-A'), sealed: Buffer.from(`${batchId}:${key}`) })).to.equal(undefined);
  });
  return writer.commit(metadata(batchId, contentHash, asOf, keys.length));
}

function enterprise(participantId: string, uscc: string): ParticipantRecord {
  return {
    participantId, role: 'enterprise', name: participantId, uscc, datasets: [], status: 'active', certificatePem: `pem of ${participantId}`,
    certificateSha256: `sha256-of-${participantId}`, notAfter: '2027-01-01T00:00:00.000Z', createdAt: '2026-11-25T00:00:00.000Z',
    statusChangedAt: '2026-11-25T00:00:00.000Z',
  };
}

function codeOf(work: () => void): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
  return undefined;
}

function sealedTexts(store: Store, includeHistory = false): string[] {
  return store.recordsBySubject('water_accounts', index('subject-A'), { includeHistory }).map((record) => Buffer.from(record.sealed).toString());
}

export function storeContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract: ${engine}`, () => {
    let store: Store;
    beforeEach(() => {
      store = factory.create();
    });
    afterEach(() => {
      store.close();
      factory.dispose();
    });

    it('makes a batch visible only when it commits', () => {
      const writer = store.beginBatch('water_accounts');
      writer.add({ rowNumber: 1, keyIndex: index('k1'), subjectIndex: index('subject-A'), sealed: Buffer.from('x') });
      expect(store.countRecords()).to.equal(0);
      writer.commit(metadata('b1', 'h1', '2026-01-01', 1));
      expect(store.countRecords('water_accounts')).to.equal(1);
    });

    it('stores nothing of an aborted batch', () => {
      const writer = store.beginBatch('water_accounts');
      writer.add({ rowNumber: 1, keyIndex: index('k1'), subjectIndex: index('subject-A'), sealed: Buffer.from('x') });
      writer.abort();
      expect(store.countRecords()).to.equal(0);
      expect(store.findBatchById('b1')).to.equal(undefined);
    });

    it('reports a natural key repeated inside a batch with the earlier row', () => {
      const writer = store.beginBatch('water_accounts');
      expect(writer.add({ rowNumber: 1, keyIndex: index('k1'), subjectIndex: index('s'), sealed: Buffer.from('a') })).to.equal(undefined);
      expect(writer.add({ rowNumber: 2, keyIndex: index('k2'), subjectIndex: index('s'), sealed: Buffer.from('b') })).to.equal(undefined);
      expect(writer.add({ rowNumber: 3, keyIndex: index('k1'), subjectIndex: index('s'), sealed: Buffer.from('c') })).to.equal(1);
      writer.abort();
    });

    it('treats the same content as a duplicate and writes nothing', () => {
      expect(writeBatch(store, 'b1', '2026-01-01', ['k1'], 'same').outcome).to.equal('stored');
      const again = writeBatch(store, 'b2', '2026-01-01', ['k1'], 'same');
      expect(again.outcome).to.equal('duplicate');
      expect(again.batch.batchId).to.equal('b1');
      expect(store.countRecords()).to.equal(1);
    });

    it('refuses a batch id reused for different content', () => {
      writeBatch(store, 'b1', '2026-01-01', ['k1'], 'one');
      expect(() => writeBatch(store, 'b1', '2026-01-01', ['k1'], 'two')).to.throw().with.property('code', 'batch_id_conflict');
      expect(store.countRecords()).to.equal(1);
    });

    it('supersedes the current record of a key with a newer one and keeps the old as history', () => {
      writeBatch(store, 'jan', '2026-01-31', ['k1', 'k2']);
      writeBatch(store, 'feb', '2026-02-28', ['k1']);
      expect(sealedTexts(store).sort()).to.deep.equal(['feb:k1', 'jan:k2']);
      const history = store.recordsBySubject('water_accounts', index('subject-A'), { includeHistory: true });
      expect(history).to.have.length(3);
      expect(history.find((record) => Buffer.from(record.sealed).toString() === 'jan:k1')?.supersededBy).to.equal('feb');
    });

    it('keeps a late-arriving older record as history, not current', () => {
      writeBatch(store, 'feb', '2026-02-28', ['k1']);
      writeBatch(store, 'jan', '2026-01-31', ['k1']);
      expect(sealedTexts(store)).to.deep.equal(['feb:k1']);
      expect(sealedTexts(store, true).sort()).to.deep.equal(['feb:k1', 'jan:k1']);
    });

    it('gives each record of a batch its own id and provenance', () => {
      writeBatch(store, 'b1', '2026-01-31', ['k1', 'k2']);
      const records = store.recordsBySubject('water_accounts', index('subject-A'));
      expect(new Set(records.map((record) => record.recordId)).size).to.equal(2);
      expect(records[0]).to.include({ batchId: 'b1', source: 'contract', asOf: '2026-01-31', supersededBy: undefined });
    });

    it('keeps committed batches and data keys across a reopen', () => {
      writeBatch(store, 'b1', '2026-01-31', ['k1']);
      const keyId = store.addDataKey(() => Buffer.from('wrapped'), '2026-01-01T00:00:00Z');
      store.close();
      store = factory.reopen();
      expect(store.countRecords()).to.equal(1);
      expect(store.findBatchById('b1')?.rowCount).to.equal(1);
      expect(store.listDataKeys().map((key) => key.keyId)).to.deep.equal([keyId]);
    });

    it('lets one enterprise participant that is not revoked act for a USCC, and a replacement revoke the old one atomically', () => {
      store.addParticipant(enterprise('ent-a', '91350100M000100Y43'));
      expect(codeOf(() => store.addParticipant(enterprise('ent-b', '91350100M000100Y43')))).to.equal('participant_exists');
      expect(store.getParticipant('ent-b')).to.equal(undefined);
      store.setParticipantStatus('ent-a', 'suspended', '2026-11-26T00:00:00.000Z');
      expect(codeOf(() => store.addParticipant(enterprise('ent-b', '91350100M000100Y43')))).to.equal('participant_exists');
      expect(store.enterpriseForUscc('91350100M000100Y43')?.participantId).to.equal('ent-a');
      store.addParticipant(enterprise('ent-b', '91350100M000100Y43'), 'ent-a');
      expect(store.getParticipant('ent-a')?.status).to.equal('revoked');
      expect(store.enterpriseForUscc('91350100M000100Y43')?.participantId).to.equal('ent-b');
      // A replacement that fails adds nothing and revokes nothing.
      expect(codeOf(() => store.addParticipant(enterprise('ent-c', '91350100M000100Y43'), 'ent-a'))).to.equal('invalid_status_change');
      expect(store.getParticipant('ent-c')).to.equal(undefined);
      expect(store.getParticipant('ent-b')?.status).to.equal('active');
      // Revoked, the USCC is free again.
      store.setParticipantStatus('ent-b', 'revoked', '2026-11-27T00:00:00.000Z');
      expect(store.enterpriseForUscc('91350100M000100Y43')).to.equal(undefined);
      store.addParticipant(enterprise('ent-d', '91350100M000100Y43'));
    });

    it('replaces sealed bytes for re-encryption', () => {
      writeBatch(store, 'b1', '2026-01-31', ['k1']);
      const [row] = store.scanSealed(0, 10);
      store.replaceSealed([{ recordId: row!.recordId, sealed: Buffer.from('resealed') }]);
      expect(sealedTexts(store)).to.deep.equal(['resealed']);
    });
  });
}
