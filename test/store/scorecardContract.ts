/**
 * The storage contract of scorecards (gateway/store/scorecardStore.ts) as a suite any engine must pass: a document is
 * kept exactly, durably; (id, version) is unique; a decision applies only to a pending scorecard; approved scorecards
 * are found by skeleton; back-tests are kept in order.
 */
import { expect } from 'chai';
import type { NewScorecard, Store } from '../../gateway/store/index.js';
import type { StoreFactory } from './contract.js';
import { rejection } from '../support/problems.js';

function scorecard(id: string, overrides: Partial<NewScorecard> = {}): NewScorecard {
  return {
    scorecardId: id, version: 1, bankId: 'bank-1', document: `{"id":"${id}", "version":1}`, sha256: `${id}-hash`, skeletonSha256: 'skeleton-1',
    questionHashes: { medical_arrears_now: 'ab' }, submittedAt: '2026-12-01T00:00:00.000Z', submitAuditIndex: 4, ...overrides,
  };
}

export function scorecardStoreContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract, scorecards: ${engine}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    it('keeps a scorecard pending, its document byte for byte, durably', async () => {
      await store.addScorecard(scorecard('model_a'));
      await store.close();
      store = await factory.reopen();
      expect(await store.getScorecard('model_a', 1)).to.deep.equal({
        ...scorecard('model_a'), state: 'pending', releaseScore: false, decidedBy: undefined, decidedAt: undefined, decisionAuditIndex: undefined,
      });
      expect(await store.getScorecard('model_a', 2)).to.equal(undefined);
    });

    it('refuses a second scorecard with the same id and version, whoever submits it', async () => {
      await store.addScorecard(scorecard('model_a'));
      expect((await rejection(store.addScorecard(scorecard('model_a', { bankId: 'bank-2' })))).code).to.equal('scorecard_exists');
      await store.addScorecard(scorecard('model_a', { version: 2 }));
      expect((await store.listScorecards({ bankId: 'bank-1' })).map((record) => record.version)).to.deep.equal([1, 2]);
    });

    it('applies a decision only to a pending scorecard', async () => {
      await store.addScorecard(scorecard('model_a'));
      const decision = { state: 'approved' as const, releaseScore: true, by: 'operator', at: '2026-12-02T00:00:00.000Z', auditIndex: 9 };
      expect(await store.decideScorecard('model_a', 1, decision)).to.equal(true);
      expect(await store.decideScorecard('model_a', 1, { ...decision, state: 'rejected' })).to.equal(false);
      expect(await store.decideScorecard('model_b', 1, decision)).to.equal(false);
      expect(await store.getScorecard('model_a', 1)).to.include({ state: 'approved', releaseScore: true, decidedBy: 'operator', decisionAuditIndex: 9 });
    });

    it('finds approved scorecards of any bank by skeleton, and lists by bank or all', async () => {
      await store.addScorecard(scorecard('model_a'));
      await store.addScorecard(scorecard('model_b', { bankId: 'bank-2' }));
      await store.addScorecard(scorecard('model_c', { skeletonSha256: 'skeleton-2' }));
      const approve = { state: 'approved' as const, releaseScore: false, by: 'operator', at: '2026-12-02T00:00:00.000Z', auditIndex: 9 };
      await store.decideScorecard('model_b', 1, approve);
      await store.decideScorecard('model_c', 1, approve);
      expect((await store.approvedWithSkeleton('skeleton-1')).map((record) => record.scorecardId)).to.deep.equal(['model_b']);
      expect((await store.listScorecards({ bankId: 'bank-2' })).map((record) => record.scorecardId)).to.deep.equal(['model_b']);
      expect((await store.listScorecards('all')).map((record) => record.scorecardId)).to.deep.equal(['model_a', 'model_b', 'model_c']);
    });

    it('keeps back-tests of a scorecard in order, with their cohorts', async () => {
      const backtest = { scorecardId: 'model_a', version: 1, bankId: 'bank-1', purpose: 'loan_approval', at: '2026-12-03T00:00:00.000Z' };
      await store.addBacktest({ ...backtest, cohort: { '91350100M000100Y43': 1, '91110108722619411A': null }, auditIndex: 11 });
      await store.addBacktest({ ...backtest, cohort: { '91350100M000100Y43': 0 }, auditIndex: 12 });
      await store.addBacktest({ ...backtest, version: 2, cohort: {}, auditIndex: 13 });
      const kept = await store.backtestsOf('model_a', 1);
      expect(kept.map((record) => [record.auditIndex, record.cohort])).to.deep.equal([
        [11, { '91350100M000100Y43': 1, '91110108722619411A': null }], [12, { '91350100M000100Y43': 0 }],
      ]);
    });
  });
}
