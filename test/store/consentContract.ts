/** The storage contract of consents (ConsentStore in gateway/store/store.ts) as a suite any engine must pass. */
import { expect } from 'chai';
import type { ConsentUse, Store } from '../../gateway/store/index.js';
import type { StoreFactory } from './contract.js';
import { consent, USCC } from './fixtures.js';
import { rejection } from '../support/problems.js';

const AT = '2026-11-27T00:00:00.000Z';

function uses(consentId: string, count: number): ConsentUse {
  return { consentId, count, at: AT };
}

export function consentStoreContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract, consents: ${engine}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    it('stores a consent active, with no uses, and reads it back as given', async () => {
      const granted = consent('c-1', { maxUses: 3, questions: ['medical_arrears_now', 'water_arrears_now'] });
      await store.addConsent(granted, false);
      const stored = await store.getConsent('c-1');
      expect(stored).to.deep.include({ ...granted, uses: 0, state: 'active', replacedBy: undefined, endedAt: undefined });
      expect(stored?.seq).to.be.a('number');
      expect(await store.getConsent('c-nobody')).to.equal(undefined);
    });

    it('refuses a second consent with the same id (consent_duplicate) and keeps the first', async () => {
      await store.addConsent(consent('c-1'), false);
      expect((await rejection(store.addConsent(consent('c-1', { bankId: 'bank-2' }), false))).code).to.equal('consent_duplicate');
      expect((await store.getConsent('c-1'))?.bankId).to.equal('bank-1');
    });

    it('ends the consent a new one replaces, in the same call: replaced, by the new one, at its grant time', async () => {
      await store.addConsent(consent('c-1'), false);
      await store.addConsent(consent('c-2', { replaces: 'c-1', grantedAt: '2026-11-26T00:00:00.000Z' }), true);
      expect(await store.getConsent('c-1')).to.include({ state: 'replaced', replacedBy: 'c-2', endedAt: '2026-11-26T00:00:00.000Z' });
      expect(await store.getConsent('c-2')).to.include({ state: 'active', replaces: 'c-1' });
    });

    it('refuses a replacement of a consent that is no longer active (consent_replaces_invalid) and stores nothing of it', async () => {
      await store.addConsent(consent('c-1'), false);
      expect(await store.endConsent('c-1', 'revoked', AT)).to.equal(true);
      expect((await rejection(store.addConsent(consent('c-2', { replaces: 'c-1' }), true))).code).to.equal('consent_replaces_invalid');
      expect(await store.getConsent('c-2')).to.equal(undefined);
      expect(await store.getConsent('c-1')).to.include({ state: 'revoked', replacedBy: undefined });
      expect((await rejection(store.addConsent(consent('c-3', { replaces: 'c-nobody' }), true))).code).to.equal('consent_replaces_invalid');
      expect(await store.getConsent('c-3')).to.equal(undefined);
    });

    it('leaves the named consent alone when the new one does not replace an active one', async () => {
      await store.addConsent(consent('c-1'), false);
      await store.addConsent(consent('c-2', { replaces: 'c-1' }), false);
      expect((await store.getConsent('c-1'))?.state).to.equal('active');
      expect((await store.getConsent('c-2'))?.replaces).to.equal('c-1');
    });

    it('lists the consents of a USCC or of a bank in grant order, a page at a time after a cursor', async () => {
      const other = '91350100M000200Y22';
      await store.addConsent(consent('c-1'), false);
      await store.addConsent(consent('c-2', { uscc: other }), false);
      await store.addConsent(consent('c-3', { bankId: 'bank-2' }), false);
      await store.addConsent(consent('c-4'), false);
      await store.addConsent(consent('c-5', { uscc: other, bankId: 'bank-2' }), false);
      const ids = (list: { consentId: string }[]) => list.map((found) => found.consentId);
      const firstPage = await store.listConsents({ uscc: USCC }, 0, 2);
      expect(ids(firstPage)).to.deep.equal(['c-1', 'c-3']);
      const secondPage = await store.listConsents({ uscc: USCC }, firstPage[1]!.seq, 2);
      expect(ids(secondPage)).to.deep.equal(['c-4']);
      expect(await store.listConsents({ uscc: USCC }, secondPage[0]!.seq, 2)).to.deep.equal([]);
      expect(ids(await store.listConsents({ bankId: 'bank-2' }, 0, 10))).to.deep.equal(['c-3', 'c-5']);
      expect(ids(await store.listConsents({ bankId: 'bank-1' }, 0, 10))).to.deep.equal(['c-1', 'c-2', 'c-4']);
      const all = await store.listConsents({ bankId: 'bank-1' }, 0, 10);
      expect(all.map((found) => found.seq)).to.deep.equal([...all.map((found) => found.seq)].sort((a, b) => a - b));
    });

    it('ends an active consent once: the second end, whatever its state, returns false and changes nothing', async () => {
      await store.addConsent(consent('c-1'), false);
      expect(await store.endConsent('c-1', 'revoked', AT)).to.equal(true);
      expect(await store.getConsent('c-1')).to.include({ state: 'revoked', endedAt: AT });
      expect(await store.endConsent('c-1', 'exhausted', '2026-11-28T00:00:00.000Z')).to.equal(false);
      expect(await store.getConsent('c-1')).to.include({ state: 'revoked', endedAt: AT });
      expect(await store.endConsent('c-nobody', 'revoked', AT)).to.equal(false);
    });

    it('counts uses within max_uses, refusing one the remaining uses cannot cover without counting any of it, and exhausts at the limit', async () => {
      await store.addConsent(consent('c-1', { maxUses: 3 }), false);
      expect(await store.useConsents([uses('c-1', 2)])).to.deep.equal([true]);
      expect(await store.useConsents([uses('c-1', 2)])).to.deep.equal([false]);
      expect(await store.getConsent('c-1')).to.include({ uses: 2, state: 'active' });
      expect(await store.useConsents([uses('c-1', 1)])).to.deep.equal([true]);
      expect(await store.getConsent('c-1')).to.include({ uses: 3, state: 'exhausted', endedAt: AT });
      expect(await store.useConsents([uses('c-1', 1)])).to.deep.equal([false]);
      expect((await store.getConsent('c-1'))?.uses).to.equal(3);
    });

    it('counts any number of uses of a consent without max_uses, and none of an ended or unknown one', async () => {
      await store.addConsent(consent('c-open'), false);
      await store.addConsent(consent('c-ended'), false);
      await store.endConsent('c-ended', 'revoked', AT);
      expect(await store.useConsents([uses('c-open', 1000), uses('c-ended', 1), uses('c-nobody', 1)])).to.deep.equal([true, false, false]);
      expect(await store.getConsent('c-open')).to.include({ uses: 1000, state: 'active' });
      expect((await store.getConsent('c-ended'))?.uses).to.equal(0);
    });

    it('answers each use of one call on its own, in order, the earlier ones counted first', async () => {
      await store.addConsent(consent('c-1', { maxUses: 2 }), false);
      await store.addConsent(consent('c-2', { maxUses: 5 }), false);
      expect(await store.useConsents([uses('c-1', 1), uses('c-2', 9), uses('c-1', 1), uses('c-1', 1), uses('c-2', 5)]))
        .to.deep.equal([true, false, true, false, true]);
      expect(await store.getConsent('c-1')).to.include({ uses: 2, state: 'exhausted' });
      expect(await store.getConsent('c-2')).to.include({ uses: 5, state: 'exhausted' });
    });

    it('lets exactly max_uses of 20 uses succeed when two connections race for a consent allowing 10', async () => {
      await store.addConsent(consent('c-1', { maxUses: 10 }), false);
      const other = await factory.reopen();
      try {
        const answers = await Promise.all(Array.from({ length: 20 }, async (_, n) =>
          (await (n % 2 === 0 ? store : other).useConsents([uses('c-1', 1)]))[0]));
        expect(answers.filter(Boolean)).to.have.length(10);
        expect(await other.getConsent('c-1')).to.include({ uses: 10, state: 'exhausted' });
      } finally {
        await other.close();
      }
    });

    it('orders an end racing uses from another connection: the uses counted are those that succeeded, and none after the end', async () => {
      await store.addConsent(consent('c-1', { maxUses: 100 }), false);
      const other = await factory.reopen();
      try {
        const using = Array.from({ length: 10 }, async () => (await store.useConsents([uses('c-1', 1)]))[0]);
        const ending = [other.endConsent('c-1', 'revoked', AT), store.endConsent('c-1', 'revoked', AT)];
        const [answers, ended] = await Promise.all([Promise.all(using), Promise.all(ending)]);
        expect(ended.filter(Boolean)).to.have.length(1);
        const counted = answers.filter(Boolean).length;
        expect(await other.getConsent('c-1')).to.include({ uses: counted, state: 'revoked' });
        expect(await other.useConsents([uses('c-1', 1)])).to.deep.equal([false]);
      } finally {
        await other.close();
      }
    });

    it('starts with uses logged through 0, and records the index a recount reached, durably', async () => {
      expect(await store.consentUsesLoggedThrough()).to.equal(0);
      expect(await store.reconcileConsentUses(new Map(), 12, AT)).to.deep.equal([]);
      expect(await store.consentUsesLoggedThrough()).to.equal(12);
      await store.close();
      store = await factory.reopen();
      expect(await store.consentUsesLoggedThrough()).to.equal(12);
    });

    it('sets each count to the uses the log holds, adding the fresh ones to those logged before, and returns the consents that changed', async () => {
      await store.addConsent(consent('c-ahead', { maxUses: 5 }), false);
      await store.addConsent(consent('c-even', { maxUses: 5 }), false);
      await store.useConsents([uses('c-ahead', 3), uses('c-even', 1)]);
      expect(await store.reconcileConsentUses(new Map([['c-ahead', 2], ['c-even', 1]]), 10, AT))
        .to.deep.equal([{ consentId: 'c-ahead', counted: 3, logged: 2, state: 'active' }]);
      expect((await store.getConsent('c-ahead'))?.uses).to.equal(2);
      // The next recount adds to what was logged before: 2 + 3 reaches max_uses.
      expect(await store.reconcileConsentUses(new Map([['c-ahead', 3]]), 20, AT))
        .to.deep.equal([{ consentId: 'c-ahead', counted: 2, logged: 5, state: 'exhausted' }]);
      expect(await store.getConsent('c-ahead')).to.include({ uses: 5, state: 'exhausted', endedAt: AT });
      expect(await store.reconcileConsentUses(new Map(), 30, AT)).to.deep.equal([]);
      expect(await store.getConsent('c-even')).to.include({ uses: 1, state: 'active' });
    });

    it('makes an exhausted consent active again when the log holds fewer uses than max_uses, and leaves revoked ones revoked', async () => {
      await store.addConsent(consent('c-exhausted', { maxUses: 1 }), false);
      await store.addConsent(consent('c-revoked', { maxUses: 5 }), false);
      await store.useConsents([uses('c-exhausted', 1), uses('c-revoked', 2)]);
      await store.endConsent('c-revoked', 'revoked', AT);
      const reconciled = await store.reconcileConsentUses(new Map(), 10, '2026-11-28T00:00:00.000Z');
      expect([...reconciled].sort((a, b) => a.consentId.localeCompare(b.consentId))).to.deep.equal([
        { consentId: 'c-exhausted', counted: 1, logged: 0, state: 'active' },
        { consentId: 'c-revoked', counted: 2, logged: 0, state: 'revoked' },
      ]);
      expect(await store.getConsent('c-exhausted')).to.include({ uses: 0, state: 'active', endedAt: undefined });
      expect(await store.getConsent('c-revoked')).to.include({ uses: 0, state: 'revoked', endedAt: AT });
      expect(await store.useConsents([uses('c-exhausted', 1)])).to.deep.equal([true]);
    });
  });
}
