/**
 * The storage contract of reports and objections (gateway/store/reportStore.ts) as a suite any engine must pass.
 */
import { expect } from 'chai';
import type { BatchWriter, NewObjection, Store } from '../../gateway/store/index.js';
import type { StoreFactory } from './contract.js';
import { rejection } from '../support/rejection.js';

const SUBJECT = Buffer.from('subject-index-A.', 'utf8');

function objection(id: string, overrides: Partial<NewObjection> = {}): NewObjection {
  return {
    objectionId: id, enterpriseId: 'enterprise-1', uscc: '91350100M000100Y43', subjectIndex: SUBJECT, datasets: ['medical_insurance_arrears'],
    target: JSON.stringify({ dataset: 'medical_insurance_arrears' }), reason: '已结清', evidence: '[]', raisedAt: '2026-11-01T00:00:00.000Z',
    dueAt: '2026-11-21T00:00:00.000Z', disputedSince: '2026-10-01T00:00:00.000Z', auditIndex: 7, ...overrides,
  };
}

/** Writes a batch of one record about SUBJECT and runs `during` inside its transaction. */
async function correctingBatch(store: Store, batchId: string, during: Parameters<BatchWriter['commit']>[1]) {
  const writer = await store.beginBatch('medical_insurance_arrears');
  await writer.add([{ rowNumber: 1, keyIndex: Buffer.from(batchId.padEnd(16, '.')), subjectIndex: SUBJECT, sealed: Buffer.from('sealed') }]);
  return writer.commit({
    batchId, dataset: 'medical_insurance_arrears', source: 'source-1', contentHash: batchId, format: 'ndjson', rowCount: 1,
    asOf: '2026-11-02', receivedAt: '2026-11-02T00:00:00.000Z',
  }, during);
}

export function reportStoreContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract, reports and objections: ${engine}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    it('keeps a report by id, durably', async () => {
      const report = {
        reportId: 'r-1', bankId: 'bank-1', uscc: '91350100M000100Y43', consentId: 'c-1', templateId: 'pre_loan_investigation', templateVersion: 1,
        jws: 'a.b.c', jwsSha256: 'ff', evidence: '{}', auditIndex: 3, createdAt: '2026-11-01T00:00:00.000Z',
      };
      await store.addReport(report);
      await store.close();
      store = await factory.reopen();
      expect(await store.getReport('r-1')).to.deep.equal(report);
      expect(await store.getReport('r-2')).to.equal(undefined);
    });

    it('stores an open objection with its raised event, and says which datasets of a subject are disputed', async () => {
      await store.addObjection(objection('o-1'));
      await store.addObjection(objection('o-2', { datasets: ['medical_insurance_payments', 'medical_insurance_arrears'] }));
      await store.addObjection(objection('o-3', { uscc: '91110108722619411A', datasets: ['water_accounts'] }));
      expect(await store.getObjection('o-1')).to.include({ state: 'open', reason: '已结清', auditIndex: 7, overdueAt: undefined, resolvedAt: undefined });
      expect(await store.disputedDatasets('91350100M000100Y43')).to.deep.equal(['medical_insurance_arrears', 'medical_insurance_payments']);
      expect(await store.disputedDatasets('91370124962235783B')).to.deep.equal([]);
      await correctingBatch(store, 'batch-1', async (transaction) => {
        expect(await transaction.disputedDatasetsOf(['91350100M000100Y43', '91110108722619411A', '91370124962235783B'])).to.deep.equal(new Map([
          ['91350100M000100Y43', ['medical_insurance_arrears', 'medical_insurance_payments']], ['91110108722619411A', ['water_accounts']],
        ]));
        expect(await transaction.disputedDatasetsOf([])).to.deep.equal(new Map());
      });
      expect((await store.objectionEvents('o-1')).map((event) => [event.type, event.actor, event.auditIndex])).to.deep.equal([['raised', 'enterprise-1', 7]]);
    });

    it('lists objections by subject, by the datasets of a source and all, filtered by state, after a cursor', async () => {
      await store.addObjection(objection('o-1'));
      await store.addObjection(objection('o-2', { datasets: ['water_accounts'] }));
      await store.addObjection(objection('o-3', { uscc: '91110108722619411A' }));
      const ids = (list: { objectionId: string }[]) => list.map((found) => found.objectionId);
      expect(ids((await store.listObjections({ uscc: '91350100M000100Y43' }, undefined, 0, 10)))).to.deep.equal(['o-1', 'o-2']);
      expect(ids((await store.listObjections({ datasets: ['medical_insurance_arrears'] }, undefined, 0, 10)))).to.deep.equal(['o-1', 'o-3']);
      expect(ids((await store.listObjections({ all: true }, 'open', 0, 2)))).to.deep.equal(['o-1', 'o-2']);
      const first = (await store.getObjection('o-1'))!;
      expect(ids((await store.listObjections({ all: true }, undefined, first.seq, 10)))).to.deep.equal(['o-2', 'o-3']);
      await store.resolveObjection('o-2', { state: 'confirmed', by: 'source-1', at: '2026-11-03T00:00:00.000Z', resolution: '{}', auditIndex: 9 });
      expect(ids((await store.listObjections({ all: true }, 'confirmed', 0, 10)))).to.deep.equal(['o-2']);
    });

    it('resolves an objection once: a second resolution changes nothing', async () => {
      await store.addObjection(objection('o-1'));
      const confirm = { state: 'confirmed' as const, by: 'source-1', at: '2026-11-03T00:00:00.000Z', resolution: '{"note":"无误"}', auditIndex: 9 };
      expect(await store.resolveObjection('o-1', confirm)).to.equal(true);
      expect(await store.resolveObjection('o-1', { ...confirm, state: 'corrected', auditIndex: 10 })).to.equal(false);
      expect(await store.resolveObjection('o-9', confirm)).to.equal(false);
      expect(await store.getObjection('o-1')).to.include({ state: 'confirmed', resolvedBy: 'source-1', resolution: '{"note":"无误"}' });
      expect(await store.disputedDatasets('91350100M000100Y43')).to.deep.equal([]);
      expect((await store.objectionEvents('o-1')).map((event) => [event.type, event.auditIndex])).to.deep.equal([['raised', 7], ['confirmed', 9]]);
    });

    it('corrects an objection inside a batch\'s transaction, with the batch, and keeps its event unaudited until marked', async () => {
      await store.addObjection(objection('o-1'));
      await correctingBatch(store, 'batch-1', async (transaction) => {
        expect((await transaction.getObjection('o-1'))?.state).to.equal('open');
        expect(await transaction.batchHasSubject(SUBJECT)).to.equal(true);
        expect(await transaction.batchHasSubject(Buffer.from('someone-else....'))).to.equal(false);
        expect(await transaction.resolveObjection('o-1', {
          state: 'corrected', by: 'source-1', at: '2026-11-02T00:00:00.000Z', resolution: '{"batch_id":"batch-1"}', auditIndex: undefined,
        })).to.equal(true);
        expect(await transaction.disputedDatasetsOf(['91350100M000100Y43'])).to.deep.equal(new Map());
      });
      expect((await store.getObjection('o-1'))?.state).to.equal('corrected');
      const [unaudited] = await store.unauditedObjectionEvents();
      expect(unaudited).to.include({ objectionId: 'o-1', type: 'corrected', auditIndex: undefined });
      await store.markObjectionEventAudited(unaudited!.seq, 12);
      expect(await store.unauditedObjectionEvents()).to.deep.equal([]);
      expect((await store.objectionEvents('o-1')).at(-1)?.auditIndex).to.equal(12);
    });

    it('rolls a correction back with its batch', async () => {
      await store.addObjection(objection('o-1'));
      expect((await rejection(correctingBatch(store, 'batch-1', async (transaction) => {
        await transaction.resolveObjection('o-1', { state: 'corrected', by: 'source-1', at: '2026-11-02T00:00:00.000Z', resolution: '{}', auditIndex: undefined });
        throw new Error('the batch fails after the correction');
      }))).message).to.include('the batch fails');
      expect((await store.getObjection('o-1'))?.state).to.equal('open');
      expect((await store.objectionEvents('o-1')).map((event) => event.type)).to.deep.equal(['raised']);
      expect(await store.countRecords('medical_insurance_arrears')).to.equal(0);
    });

    it('flags an open objection overdue once, and only when it is past due', async () => {
      await store.addObjection(objection('o-1'));
      expect(await store.overdueUnflagged('2026-11-20T23:59:59.999Z', 10)).to.deep.equal([]);
      expect((await store.overdueUnflagged('2026-11-21T00:00:00.000Z', 10)).map((found) => found.objectionId)).to.deep.equal(['o-1']);
      expect(await store.flagOverdue('o-1', '2026-11-21T00:00:01.000Z', 11)).to.equal(true);
      expect(await store.flagOverdue('o-1', '2026-11-21T00:00:02.000Z', 12)).to.equal(false);
      expect(await store.overdueUnflagged('2026-12-01T00:00:00.000Z', 10)).to.deep.equal([]);
      expect(await store.getObjection('o-1')).to.include({ state: 'open', overdueAt: '2026-11-21T00:00:01.000Z' });
    });

    it('notifies the banks of a correction once, with its outbox events, which need no subscription', async () => {
      await store.addObjection(objection('o-1'));
      await store.resolveObjection('o-1', { state: 'corrected', by: 'source-1', at: '2026-11-03T00:00:00.000Z', resolution: '{}', auditIndex: 9 });
      expect((await store.correctedUnnotified()).map((found) => found.objectionId)).to.deep.equal(['o-1']);
      const event = {
        eventId: 'e-1', bankId: 'bank-1', type: 'answer.corrected' as const, subscriptionId: undefined, content: '{}', createdAt: '2026-11-03T00:00:01.000Z',
      };
      expect(await store.notifyCorrection('o-1', [event], { at: '2026-11-03T00:00:01.000Z', details: '{}', auditIndex: 10 })).to.equal(true);
      expect(await store.notifyCorrection('o-1', [{ ...event, eventId: 'e-2' }], { at: '2026-11-03T00:00:02.000Z', details: '{}', auditIndex: 11 })).to.equal(false);
      expect(await store.correctedUnnotified()).to.deep.equal([]);
      expect(await store.getEvent('e-1')).to.include({ type: 'answer.corrected', subscriptionId: undefined, state: 'pending' });
      expect(await store.getEvent('e-2')).to.equal(undefined);
      expect((await store.objectionEvents('o-1')).map((found) => found.type)).to.deep.equal(['raised', 'corrected', 'banks_notified']);
    });
  });
}
