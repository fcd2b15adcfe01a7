/**
 * The storage contract (gateway/store/store.ts) as a suite any engine must pass: call storeContract with a factory
 * for that engine. This file covers batches, records, data keys, coordination and the engine itself; the other
 * parts of the contract have suites of their own beside it (identity, consents, monitoring, reports, scorecards).
 */
import { expect } from 'chai';
import type { BatchWriter, Store } from '../../gateway/store/index.js';
import { rejection } from '../support/problems.js';
import { rejection as errorOf } from '../support/rejection.js';
import { readInsideBatch, writeBatch } from './batches.js';
import {
  DATASET, batchMetadata, blindIndex, consent, enterprise, gate, outboxEvent, sealedRecords, sealedTexts, settle, subscription,
} from './fixtures.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  create(): Promise<Store>;
  /** Another connection to the database `create` made last: after a close, durability; alongside, concurrency. */
  reopen(): Promise<Store>;
  /** Removes the database `create` made last (its stores are closed first). */
  dispose(): Promise<void>;
}

/** Opens a batch and adds one record per key about subject-A, each sealed as `<tag>:<key>`. */
async function openBatch(store: Store, tag: string, keys: readonly string[]): Promise<BatchWriter> {
  const writer = await store.beginBatch(DATASET);
  await writer.add(sealedRecords(tag, keys));
  return writer;
}

/** Work to run under a lock that records when it entered and when it left, staying inside across a timer. */
function tracer() {
  const steps: string[] = [];
  return {
    steps,
    work: (name: string) => async () => {
      steps.push(`enter ${name}`);
      await settle();
      steps.push(`exit ${name}`);
      return name;
    },
  };
}

/** Whether every piece of work in `steps` left before the next one entered. */
function neverOverlapped(steps: readonly string[]): boolean {
  return steps.every((step, position) => step.startsWith(position % 2 === 0 ? 'enter ' : 'exit ')
    && (position % 2 === 0 || step.slice('exit '.length) === steps[position - 1]!.slice('enter '.length)));
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

    describe('batches and records', () => {
      it('makes a batch visible only when it commits', async () => {
        const writer = await openBatch(store, 'b1', ['k1']);
        expect(await store.countRecords()).to.equal(0);
        expect(await store.findBatchById('b1')).to.equal(undefined);
        expect((await writer.commit(batchMetadata('b1', 'h1', '2026-01-01', 1))).outcome).to.equal('stored');
        expect(await store.countRecords(DATASET)).to.equal(1);
        expect(await store.findBatchById('b1')).to.deep.equal(batchMetadata('b1', 'h1', '2026-01-01', 1));
        expect(await store.findBatch(DATASET, 'h1')).to.deep.equal(batchMetadata('b1', 'h1', '2026-01-01', 1));
      });

      it('keeps an open batch invisible to another connection until it commits', async () => {
        const other = await factory.reopen();
        try {
          const writer = await openBatch(store, 'b1', ['k1', 'k2']);
          expect(await other.countRecords()).to.equal(0);
          expect(await sealedTexts(other)).to.deep.equal([]);
          await writer.commit(batchMetadata('b1', 'h1', '2026-01-01', 2));
          expect((await sealedTexts(other)).sort()).to.deep.equal(['b1:k1', 'b1:k2']);
          expect((await other.findBatchById('b1'))?.rowCount).to.equal(2);
        } finally {
          await other.close();
        }
      });

      it('stores nothing of an aborted batch', async () => {
        const writer = await openBatch(store, 'b1', ['k1']);
        await writer.abort();
        expect(await store.countRecords()).to.equal(0);
        expect(await store.findBatchById('b1')).to.equal(undefined);
        expect((await writeBatch(store, 'b2', '2026-01-01', ['k1'])).outcome).to.equal('stored');
      });

      it('reports a natural key repeated inside a batch with the earlier row', async () => {
        const writer = await store.beginBatch(DATASET);
        const record = (rowNumber: number, key: string) => ({ rowNumber, keyIndex: blindIndex(key), subjectIndex: blindIndex('s'), sealed: Buffer.from(key) });
        expect(await writer.add([record(1, 'k1')])).to.deep.equal([undefined]);
        expect(await writer.add([record(2, 'k2'), record(3, 'k1'), record(4, 'k3'), record(5, 'k2')])).to.deep.equal([undefined, 1, undefined, 2]);
        await writer.abort();
      });

      it('gives each row its own record id, from the batch writer, and stores the record under it', async () => {
        const writer = await openBatch(store, 'b1', ['k1', 'k2']);
        const expected = [writer.recordId(1), writer.recordId(2)];
        expect(new Set(expected).size).to.equal(2);
        await writer.commit(batchMetadata('b1', 'h1', '2026-01-31', 2));
        const records = await store.recordsBySubject(DATASET, blindIndex('subject-A'));
        expect(records.map((record) => record.recordId).sort((a, b) => a - b)).to.deep.equal(expected.sort((a, b) => a - b));
        expect(records[0]).to.include({ dataset: DATASET, batchId: 'b1', source: 'contract', asOf: '2026-01-31', receivedAt: '2026-11-25T00:00:00.000Z', supersededBy: undefined });
        expect(store.maxBatchRows).to.be.at.least(1_000_000);
      });

      it('treats the same content as a duplicate: writes nothing and returns the stored batch', async () => {
        expect((await writeBatch(store, 'b1', '2026-01-01', ['k1'], 'same')).outcome).to.equal('stored');
        const again = await writeBatch(store, 'b2', '2026-01-01', ['k1'], 'same');
        expect(again.outcome).to.equal('duplicate');
        expect(again.batch.batchId).to.equal('b1');
        expect(await store.countRecords()).to.equal(1);
        expect(await store.findBatchById('b2')).to.equal(undefined);
        // The same batch id with the same content is the same batch too.
        expect((await writeBatch(store, 'b1', '2026-01-01', ['k1'], 'same')).outcome).to.equal('duplicate');
      });

      it('refuses a batch id reused for different content (batch_id_conflict) and writes nothing', async () => {
        await writeBatch(store, 'b1', '2026-01-01', ['k1'], 'one');
        expect((await rejection(writeBatch(store, 'b1', '2026-01-01', ['k1'], 'two'))).code).to.equal('batch_id_conflict');
        expect(await store.countRecords()).to.equal(1);
        expect(await store.findBatch(DATASET, 'two')).to.equal(undefined);
      });

      it('stores one of two batches of the same content committed on two connections at once, and calls the other a duplicate', async () => {
        const other = await factory.reopen();
        try {
          const writers = [await openBatch(store, 'b1', ['k1']), await openBatch(other, 'b2', ['k1'])];
          const results = await Promise.all(writers.map((writer, n) => writer.commit(batchMetadata(`b${n + 1}`, 'same', '2026-01-01', 1))));
          expect(results.map((result) => result.outcome).sort()).to.deep.equal(['duplicate', 'stored']);
          expect(results[0]!.batch.batchId).to.equal(results[1]!.batch.batchId);
          expect(await store.countRecords()).to.equal(1);
        } finally {
          await other.close();
        }
      });

      it('serves other writes on the store while a batch is open', async () => {
        const writer = await openBatch(store, 'b1', ['k1']);
        expect(await store.rememberRequests([{ participantId: 'bank-1', jti: 'j1', expiresAt: 5000 }], 1000)).to.deep.equal([true]);
        await store.addConsent(consent('c-1'), false);
        await writer.commit(batchMetadata('b1', 'h1', '2026-01-01', 1));
        expect(await store.countRecords()).to.equal(1);
      });

      it('supersedes the current record of a key with a newer one and keeps the old as history', async () => {
        await writeBatch(store, 'jan', '2026-01-31', ['k1', 'k2']);
        await writeBatch(store, 'feb', '2026-02-28', ['k1']);
        expect((await sealedTexts(store)).sort()).to.deep.equal(['feb:k1', 'jan:k2']);
        const history = await store.recordsBySubject(DATASET, blindIndex('subject-A'), { includeHistory: true });
        expect(history).to.have.length(3);
        expect(history.find((record) => Buffer.from(record.sealed).toString() === 'jan:k1')?.supersededBy).to.equal('feb');
        // Current records come first.
        expect(history.slice(0, 2).every((record) => record.supersededBy === undefined)).to.equal(true);
      });

      it('lets a record of the same as-of date supersede the current one', async () => {
        await writeBatch(store, 'first', '2026-01-31', ['k1']);
        await writeBatch(store, 'second', '2026-01-31', ['k1']);
        expect(await sealedTexts(store)).to.deep.equal(['second:k1']);
      });

      it('keeps a late-arriving older record as history, not current', async () => {
        await writeBatch(store, 'feb', '2026-02-28', ['k1']);
        await writeBatch(store, 'jan', '2026-01-31', ['k1']);
        expect(await sealedTexts(store)).to.deep.equal(['feb:k1']);
        expect((await sealedTexts(store, 'subject-A', true)).sort()).to.deep.equal(['feb:k1', 'jan:k1']);
      });

      it('reads records by subject and dataset only', async () => {
        await writeBatch(store, 'b1', '2026-01-31', ['k1'], undefined, 'subject-A');
        await writeBatch(store, 'b2', '2026-01-31', ['k2'], undefined, 'subject-B');
        expect(await sealedTexts(store, 'subject-B')).to.deep.equal(['b2:k2']);
        expect(await store.recordsBySubject('medical_insurance_arrears', blindIndex('subject-A'))).to.deep.equal([]);
      });

      it('counts records in all datasets or in one', async () => {
        await writeBatch(store, 'b1', '2026-01-31', ['k1', 'k2']);
        const writer = await store.beginBatch('medical_insurance_arrears');
        await writer.add(sealedRecords('m1', ['k1']));
        await writer.commit({ ...batchMetadata('m1', 'm1', '2026-01-31', 1), dataset: 'medical_insurance_arrears' });
        expect(await store.countRecords()).to.equal(3);
        expect(await store.countRecords(DATASET)).to.equal(2);
        expect(await store.countRecords('medical_insurance_arrears')).to.equal(1);
        expect(await store.countRecords('unknown_dataset')).to.equal(0);
      });

      it('lists the most recent committed batches, newest first, up to the limit', async () => {
        for (const batchId of ['b1', 'b2', 'b3']) await writeBatch(store, batchId, '2026-01-31', ['k1']);
        await (await openBatch(store, 'open', ['k2'])).abort();
        expect((await store.listBatches(2)).map((batch) => batch.batchId)).to.deep.equal(['b3', 'b2']);
        expect(await store.listBatches(10)).to.have.length(3);
      });

      it('lists each batch with the index of its audit entry, once it is marked audited', async () => {
        for (const batchId of ['b1', 'b2']) await writeBatch(store, batchId, '2026-01-31', ['k1']);
        await store.markBatchAudited('b2', 4_294_967_296);
        expect((await store.listBatches(10)).map((batch) => [batch.batchId, batch.auditIndex])).to.deep.equal([['b2', 4_294_967_296], ['b1', undefined]]);
      });

      it('lists committed batches that have no audit entry, oldest first, until each is marked audited', async () => {
        await writeBatch(store, 'b1', '2026-01-31', ['k1']);
        await writeBatch(store, 'b2', '2026-01-31', ['k2']);
        await writeBatch(store, 'b3', '2026-01-31', ['k3']);
        expect((await store.unauditedBatches()).map((batch) => batch.batchId)).to.deep.equal(['b1', 'b2', 'b3']);
        await store.markBatchAudited('b2', 4);
        expect((await store.unauditedBatches()).map((batch) => batch.batchId)).to.deep.equal(['b1', 'b3']);
        await store.close();
        store = await factory.reopen();
        expect((await store.unauditedBatches()).map((batch) => batch.batchId)).to.deep.equal(['b1', 'b3']);
      });

      it('keeps committed batches and data keys across a reopen', async () => {
        await writeBatch(store, 'b1', '2026-01-31', ['k1']);
        const keyId = await store.addDataKey(() => Buffer.from('wrapped'), '2026-01-01T00:00:00Z');
        await store.close();
        store = await factory.reopen();
        expect(await store.countRecords()).to.equal(1);
        expect((await store.findBatchById('b1'))?.rowCount).to.equal(1);
        expect(await store.listDataKeys()).to.deep.equal([{ keyId, wrapped: Buffer.from('wrapped'), createdAt: '2026-01-01T00:00:00Z' }]);
      });

      it('gives data keys consecutive ids, each wrapped knowing its own id, listed in id order', async () => {
        const wrappedFor: number[] = [];
        const wrap = (keyId: number) => {
          wrappedFor.push(keyId);
          return Buffer.from(`key ${keyId}`);
        };
        const first = await store.addDataKey(wrap, '2026-01-01T00:00:00Z');
        const second = await store.addDataKey(wrap, '2026-02-01T00:00:00Z');
        const third = await store.addDataKey(wrap, '2026-03-01T00:00:00Z');
        expect([second, third]).to.deep.equal([first + 1, first + 2]);
        expect(wrappedFor).to.deep.equal([first, second, third]);
        expect((await store.listDataKeys()).map((key) => [key.keyId, Buffer.from(key.wrapped).toString()]))
          .to.deep.equal([[first, `key ${first}`], [second, `key ${second}`], [third, `key ${third}`]]);
      });

      it('scans sealed records in record-id order after a cursor, and replaces the sealed bytes of those named only', async () => {
        await writeBatch(store, 'b1', '2026-01-31', ['k1', 'k2']);
        await writeBatch(store, 'b2', '2026-02-28', ['k3']);
        const all = await store.scanSealed(0, 10);
        expect(all.map((row) => Buffer.from(row.sealed).toString())).to.deep.equal(['b1:k1', 'b1:k2', 'b2:k3']);
        expect(all.every((row) => row.dataset === DATASET)).to.equal(true);
        expect(all.map((row) => row.recordId)).to.deep.equal([...all.map((row) => row.recordId)].sort((a, b) => a - b));
        const page = await store.scanSealed(all[0]!.recordId, 1);
        expect(page.map((row) => row.recordId)).to.deep.equal([all[1]!.recordId]);
        expect(await store.scanSealed(all[2]!.recordId, 10)).to.deep.equal([]);
        await store.replaceSealed([{ recordId: all[0]!.recordId, sealed: Buffer.from('resealed-1') }, { recordId: all[2]!.recordId, sealed: Buffer.from('resealed-3') }]);
        expect((await store.scanSealed(0, 10)).map((row) => Buffer.from(row.sealed).toString())).to.deep.equal(['resealed-1', 'b1:k2', 'resealed-3']);
      });
    });

    describe('a batch\'s beforeCommit', () => {
      /** An active enterprise, an active consent and a subscription to subject-A under it. */
      async function watchSubjectA(): Promise<void> {
        await store.addParticipant(enterprise('ent-1'));
        await store.addConsent(consent('c-1'), false);
        await store.addSubscription(subscription('s-1', { consentId: 'c-1' }), async () => []);
      }

      it('commits what it writes with the batch: monitoring answers and outbox events', async () => {
        await store.addSubscription(subscription('s-1'), async () => []);
        const writer = await openBatch(store, 'b1', ['k1']);
        const result = await writer.commit(batchMetadata('b1', 'h1', '2026-01-31', 1), async (transaction) => {
          await transaction.setMonitorAnswers([{ subscriptionId: 's-1', questionId: 'q', answer: 'true' }]);
          await transaction.addEvents([outboxEvent('e-1')]);
        });
        expect(result.outcome).to.equal('stored');
        expect(await store.countRecords()).to.equal(1);
        expect((await store.getEvent('e-1'))?.state).to.equal('pending');
        expect(await readInsideBatch(store, (transaction) => transaction.monitorAnswers(['s-1']))).to.deep.equal([{ subscriptionId: 's-1', questionId: 'q', answer: 'true' }]);
      });

      it('reads the answers last seen by many subscriptions in one read', async () => {
        await store.addSubscription(subscription('s-1'), async () => []);
        await store.addSubscription(subscription('s-2'), async () => []);
        await store.addSubscription(subscription('s-3'), async () => []);
        const writer = await openBatch(store, 'b1', ['k1']);
        await writer.commit(batchMetadata('b1', 'h1', '2026-01-31', 1), async (transaction) => {
          await transaction.setMonitorAnswers([
            { subscriptionId: 's-1', questionId: 'q', answer: 'true' }, { subscriptionId: 's-1', questionId: 'r', answer: '"unknown"' },
            { subscriptionId: 's-2', questionId: 'q', answer: 'false' }, { subscriptionId: 's-3', questionId: 'q', answer: 'true' },
          ]);
        });
        const read = await readInsideBatch(store, (transaction) => transaction.monitorAnswers(['s-1', 's-2', 's-4']));
        expect(read.map((row) => `${row.subscriptionId}/${row.questionId}=${row.answer}`).sort()).to.deep.equal(['s-1/q=true', 's-1/r="unknown"', 's-2/q=false']);
        expect(await readInsideBatch(store, (transaction) => transaction.monitorAnswers([]))).to.deep.equal([]);
      });

      it('rolls the batch back whole when it throws: its records, answers and events, and the commit rejects with its error', async () => {
        await store.addSubscription(subscription('s-1'), async () => []);
        const writer = await openBatch(store, 'b1', ['k1']);
        const failure = await errorOf(writer.commit(batchMetadata('b1', 'h1', '2026-01-31', 1), async (transaction) => {
          await transaction.setMonitorAnswers([{ subscriptionId: 's-1', questionId: 'q', answer: 'true' }]);
          await transaction.addEvents([outboxEvent('e-1')]);
          throw new Error('alerting failed');
        }));
        expect(failure.message).to.equal('alerting failed');
        await writer.abort();
        expect(await store.countRecords()).to.equal(0);
        expect(await store.findBatchById('b1')).to.equal(undefined);
        expect(await store.getEvent('e-1')).to.equal(undefined);
        expect(await readInsideBatch(store, (transaction) => transaction.monitorAnswers(['s-1']))).to.deep.equal([]);
        expect((await writeBatch(store, 'b1', '2026-01-31', ['k1'], 'h1')).outcome).to.equal('stored');
      });

      it('does not run for a duplicate batch', async () => {
        await writeBatch(store, 'b1', '2026-01-31', ['k1'], 'same');
        const writer = await openBatch(store, 'b2', ['k1']);
        let ran = false;
        const result = await writer.commit(batchMetadata('b2', 'same', '2026-01-31', 1), async () => {
          ran = true;
        });
        expect([result.outcome, ran]).to.deep.equal(['duplicate', false]);
      });

      it('sees the batch\'s own records as current, beside the earlier ones it does not supersede, for many subjects in one read', async () => {
        await writeBatch(store, 'jan', '2026-01-31', ['k1', 'k2']);
        await writeBatch(store, 'jan-b', '2026-01-31', ['kb'], undefined, 'subject-B');
        await writeBatch(store, 'jan-c', '2026-01-31', ['kc'], undefined, 'subject-C');
        const writer = await openBatch(store, 'feb', ['k1']);
        let seen: string[] = [];
        let none: unknown[] = [];
        await writer.commit(batchMetadata('feb', 'h-feb', '2026-02-28', 1), async (transaction) => {
          const subjects = [blindIndex('subject-A'), blindIndex('subject-B'), blindIndex('subject-D')];
          seen = (await transaction.currentRecords(DATASET, subjects))
            .map((record) => `${Buffer.from(record.subjectIndex).toString().replace(/\.+$/, '')}:${Buffer.from(record.sealed).toString()}@${record.asOf}`);
          none = await transaction.currentRecords(DATASET, []);
        });
        expect(seen.sort()).to.deep.equal(['subject-A:feb:k1@2026-02-28', 'subject-A:jan:k2@2026-01-31', 'subject-B:jan-b:kb@2026-01-31']);
        expect(none).to.deep.equal([]);
      });

      it('finds the subscriptions watching a subject of the batch, under an active unexpired consent of an active enterprise', async () => {
        await watchSubjectA();
        const watching = async (tag: string, subject: string, nowSeconds = 2_000_000_000) => {
          const writer = await store.beginBatch(DATASET);
          await writer.add(sealedRecords(tag, ['k1'], subject));
          let found: string[] = [];
          await writer.commit(batchMetadata(tag, tag, '2026-01-31', 1), async (transaction) => {
            found = (await transaction.watchedSubjects(nowSeconds)).map((watched) => `${watched.subscriptionId}/${watched.consentId}/${watched.bankId}/${watched.rules.join()}`);
          });
          return found;
        };
        expect(await watching('b1', 'subject-A')).to.deep.equal(['s-1/c-1/bank-1/arrears_started']);
        expect(await watching('b2', 'subject-B')).to.deep.equal([]);
        expect(await watching('b3', 'subject-A', 4_000_000_000)).to.deep.equal([]);
        await store.setParticipantStatus('ent-1', 'suspended', '2026-11-27T00:00:00.000Z');
        expect(await watching('b4', 'subject-A')).to.deep.equal([]);
        await store.setParticipantStatus('ent-1', 'active', '2026-11-28T00:00:00.000Z');
        await store.endConsent('c-1', 'revoked', '2026-11-28T00:00:00.000Z');
        expect(await watching('b5', 'subject-A')).to.deep.equal([]);
      });

      it('holds the batch\'s transaction while it awaits, and sees what it wrote earlier in it', async () => {
        await store.addSubscription(subscription('s-1'), async () => []);
        const held = gate();
        const writer = await openBatch(store, 'b1', ['k1']);
        const committing = writer.commit(batchMetadata('b1', 'h1', '2026-01-31', 1), async (transaction) => {
          await transaction.setMonitorAnswers([{ subscriptionId: 's-1', questionId: 'q', answer: 'false' }]);
          await held.opened;
          expect(await transaction.monitorAnswers(['s-1'])).to.deep.equal([{ subscriptionId: 's-1', questionId: 'q', answer: 'false' }]);
        });
        await settle();
        expect(await store.countRecords()).to.equal(0);
        held.open();
        await committing;
        expect(await store.countRecords()).to.equal(1);
      });
    });

    describe('coordination', () => {
      it('runs work under one key one at a time', async () => {
        const trace = tracer();
        const names = await Promise.all(['a', 'b', 'c'].map((name) => store.exclusive(['consent:1'], trace.work(name))));
        expect(names).to.deep.equal(['a', 'b', 'c']);
        expect(trace.steps).to.have.length(6);
        expect(neverOverlapped(trace.steps), trace.steps.join(', ')).to.equal(true);
      });

      it('runs work under one key one at a time across two stores on one database', async function (this: Mocha.Context) {
        if (store.engine.name === 'sqlite') {
          // Mocha's skip takes no reason: the title carries it.
          this.test!.title += ' [skipped on sqlite: one gateway process per database file, so two stores in one process do not share its in-process lock]';
          this.skip();
        }
        const other = await factory.reopen();
        try {
          const trace = tracer();
          await Promise.all([store, other, store, other].map((connection, n) => connection.exclusive(['consent:1'], trace.work(`w${n}`))));
          expect(neverOverlapped(trace.steps), trace.steps.join(', ')).to.equal(true);
        } finally {
          await other.close();
        }
      });

      it('takes several keys in sorted order, so callers naming them in different orders do not deadlock', async () => {
        const trace = tracer();
        const done = await Promise.all([
          store.exclusive(['consent:a', 'consent:b'], trace.work('ab')),
          store.exclusive(['consent:b', 'consent:a'], trace.work('ba')),
          store.exclusive(['consent:b'], trace.work('b')),
        ]);
        expect(done).to.deep.equal(['ab', 'ba', 'b']);
        expect(neverOverlapped(trace.steps), trace.steps.join(', ')).to.equal(true);
      });

      it('lets work under another key run while a key is held', async () => {
        const held = gate();
        const holding = store.exclusive(['consent:a'], () => held.opened);
        expect(await store.exclusive(['consent:b'], async () => 'ran')).to.equal('ran');
        held.open();
        await holding;
      });

      it('releases a key when the work under it throws, and passes the error on', async () => {
        const failure = await errorOf(store.exclusive(['consent:a', 'consent:b'], async () => {
          throw new Error('the work failed');
        }));
        expect(failure.message).to.equal('the work failed');
        expect(await store.exclusive(['consent:b'], async () => 'after')).to.equal('after');
        expect(await store.exclusive(['consent:a'], async () => 'after')).to.equal('after');
      });

      it('lets the first store to ask lead a role, and keep it', async () => {
        expect(await store.leads('checkpoint-signer')).to.equal(true);
        expect(await store.leads('checkpoint-signer')).to.equal(true);
        expect(await store.leads('alert-sender')).to.equal(true);
      });
    });

    describe('the engine', () => {
      it('names itself and where it keeps the data, without credentials', () => {
        expect(store.engine.name).to.be.oneOf(['sqlite', 'postgres']);
        expect(store.engine.location).to.be.a('string').and.not.equal('');
        expect(store.engine.location).to.not.match(/\/\/[^/@]*:[^/@]*@/);
      });

      it('answers a ping and finds no integrity problem in a healthy store', async () => {
        await writeBatch(store, 'b1', '2026-01-31', ['k1']);
        await store.ping();
        expect(await store.integrityProblems()).to.deep.equal([]);
      });
    });
  });
}
