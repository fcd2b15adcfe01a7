/**
 * The storage contract of monitoring (MonitorStore in gateway/store/store.ts: webhooks, subscriptions, the outbox) as
 * a suite any engine must pass.
 */
import { expect } from 'chai';
import type { MonitorAnswer, NewOutboxEvent, OutboxEvent, Store } from '../../gateway/store/index.js';
import type { StoreFactory } from './contract.js';
import { addEvents, answersOf, writeBatch } from './batches.js';
import { consent, gate, outboxEvent, participant, settle, subscription, webhook } from './fixtures.js';
import { rejection } from '../support/problems.js';
import { rejection as errorOf } from '../support/rejection.js';

const AT = '2026-11-27T00:00:00.000Z';
/** The sample events' creation time, when they first fall due. */
const CREATED_MS = Date.parse('2026-11-26T00:00:00.000Z');

function answer(subscriptionId: string, questionId: string, value: string): MonitorAnswer {
  return { subscriptionId, questionId, answer: value };
}

function ids(events: readonly OutboxEvent[]): string[] {
  return events.map((event) => event.eventId);
}

export function monitorStoreContract(engine: string, factory: StoreFactory): void {
  describe(`storage contract, monitoring: ${engine}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory.create();
    });
    afterEach(async () => {
      await store.close();
      await factory.dispose();
    });

    /** Banks that exist as participants, so that they may register webhooks. */
    async function addBanks(...bankIds: string[]): Promise<void> {
      for (const bankId of bankIds) await store.addParticipant(participant(bankId, 'bank'));
    }

    it('keeps one webhook per participant: a second set replaces its URL and secret and keeps when it was first set', async () => {
      await addBanks('bank-1', 'bank-2');
      expect(await store.getWebhook('bank-1')).to.equal(undefined);
      await store.setWebhook(webhook('bank-2'));
      await store.setWebhook(webhook('bank-1'));
      await store.setWebhook(webhook('bank-1', { url: 'https://new.example/hook', secret: 'new secret', updatedAt: AT }));
      expect(await store.getWebhook('bank-1')).to.deep.equal(webhook('bank-1', { url: 'https://new.example/hook', secret: 'new secret', updatedAt: AT }));
      const listed = await store.listWebhooks();
      expect(listed.map((found) => found.participantId).sort()).to.deep.equal(['bank-1', 'bank-2']);
      expect(listed.find((found) => found.participantId === 'bank-2')).to.deep.equal(webhook('bank-2'));
    });

    it('stores a subscription active, with its baseline answers, in one call', async () => {
      const added = subscription('s-1');
      await store.addSubscription(added, async () => [answer('s-1', 'medical_arrears_now', 'false'), answer('s-1', 'water_arrears_now', 'true')]);
      expect(await store.getSubscription('s-1')).to.deep.include({ ...added, state: 'active', endReason: undefined, endedAt: undefined });
      expect((await answersOf(store, 's-1')).sort((a, b) => a.questionId.localeCompare(b.questionId))).to.deep.equal([
        answer('s-1', 'medical_arrears_now', 'false'), answer('s-1', 'water_arrears_now', 'true'),
      ]);
      expect(await store.getSubscription('s-nobody')).to.equal(undefined);
    });

    it('holds the subscription\'s transaction while its baseline awaits: a batch committed meanwhile commits after it, not in between', async () => {
      const held = gate();
      const order: string[] = [];
      const adding = store.addSubscription(subscription('s-1'), async () => {
        await held.opened;
        order.push('baseline');
        return [answer('s-1', 'medical_arrears_now', 'false')];
      });
      await settle();
      // A batch about the subject must not commit between the baseline's reads and the subscription's store: its
      // change would be in neither the baseline nor an alert.
      const committing = writeBatch(store, 'b-meanwhile', '2026-11-01', ['k1']).then((result) => {
        order.push('batch');
        return result;
      });
      await settle();
      held.open();
      await Promise.all([adding, committing]);
      expect(order).to.deep.equal(['baseline', 'batch']);
      expect((await store.getSubscription('s-1'))?.subscriptionId).to.equal('s-1');
    });

    it('stores nothing of a subscription whose baseline throws', async () => {
      const failure = await errorOf(store.addSubscription(subscription('s-1'), async () => {
        throw new Error('the baseline failed');
      }));
      expect(failure.message).to.equal('the baseline failed');
      expect(await store.getSubscription('s-1')).to.equal(undefined);
      expect(await store.activeSubscriptionsOfConsent('consent-of-s-1')).to.deep.equal([]);
      await store.addSubscription(subscription('s-1'), async () => []);
      expect((await store.getSubscription('s-1'))?.state).to.equal('active');
    });

    it('refuses a second active subscription under one consent (subscription_exists), and allows one once the first has ended', async () => {
      await store.addSubscription(subscription('s-1', { consentId: 'c-1' }), async () => []);
      expect((await rejection(store.addSubscription(subscription('s-2', { consentId: 'c-1' }), async () => [answer('s-2', 'q', 'true')]))).code)
        .to.equal('subscription_exists');
      expect(await store.getSubscription('s-2')).to.equal(undefined);
      expect(await answersOf(store, 's-2')).to.deep.equal([]);
      expect(await store.endSubscriptions([{ subscriptionId: 's-1', reason: 'bank_ended', event: undefined }], AT)).to.equal(1);
      await store.addSubscription(subscription('s-2', { consentId: 'c-1' }), async () => []);
      expect((await store.activeSubscriptionsOfConsent('c-1')).map((found) => found.subscriptionId)).to.deep.equal(['s-2']);
    });

    it('lists a bank\'s subscriptions in creation order, a page at a time after a cursor, ended ones included', async () => {
      for (const [id, bankId] of [['s-1', 'bank-1'], ['s-2', 'bank-2'], ['s-3', 'bank-1'], ['s-4', 'bank-1']] as const) {
        await store.addSubscription(subscription(id, { bankId }), async () => []);
      }
      await store.endSubscriptions([{ subscriptionId: 's-3', reason: 'bank_ended', event: undefined }], AT);
      const first = await store.listSubscriptions('bank-1', 0, 2);
      expect(first.map((found) => [found.subscriptionId, found.state])).to.deep.equal([['s-1', 'active'], ['s-3', 'ended']]);
      const second = await store.listSubscriptions('bank-1', first[1]!.seq, 2);
      expect(second.map((found) => found.subscriptionId)).to.deep.equal(['s-4']);
      expect(await store.listSubscriptions('bank-1', second[0]!.seq, 2)).to.deep.equal([]);
      expect((await store.listSubscriptions('bank-2', 0, 10)).map((found) => found.subscriptionId)).to.deep.equal(['s-2']);
    });

    it('finds the subscriptions whose consent has ended or expired, with the consent\'s state, up to the limit', async () => {
      const now = 2_000_000_000;
      await store.addConsent(consent('c-active'), false);
      await store.addConsent(consent('c-revoked'), false);
      await store.addConsent(consent('c-expired', { expiresAt: now }), false);
      await store.addConsent(consent('c-ended-sub'), false);
      await store.endConsent('c-revoked', 'revoked', AT);
      await store.endConsent('c-ended-sub', 'revoked', AT);
      for (const consentId of ['c-active', 'c-revoked', 'c-expired', 'c-ended-sub']) {
        await store.addSubscription(subscription(`s-${consentId}`, { consentId }), async () => []);
      }
      await store.endSubscriptions([{ subscriptionId: 's-c-ended-sub', reason: 'consent_revoked', event: undefined }], AT);
      const found = await store.subscriptionsOfEndedConsents(now, 10);
      expect(found.map((item) => [item.subscription.subscriptionId, item.consentState]).sort()).to.deep.equal([
        ['s-c-expired', 'active'], ['s-c-revoked', 'revoked'],
      ]);
      expect(await store.subscriptionsOfEndedConsents(now, 1)).to.have.length(1);
      expect((await store.subscriptionsOfEndedConsents(now - 1, 10)).map((item) => item.subscription.subscriptionId)).to.deep.equal(['s-c-revoked']);
    });

    it('ends only subscriptions still active, with their events in the same call, and says how many it ended', async () => {
      await store.addSubscription(subscription('s-1', { consentId: 'c-1' }), async () => []);
      await store.addSubscription(subscription('s-2', { consentId: 'c-2' }), async () => []);
      const endingOf = (subscriptionId: string, eventId: string) => ({
        subscriptionId, reason: 'consent_revoked', event: outboxEvent(eventId, { type: 'consent.revoked', subscriptionId }),
      });
      expect(await store.endSubscriptions([endingOf('s-1', 'e-1')], AT)).to.equal(1);
      expect(await store.endSubscriptions([endingOf('s-1', 'e-1-again'), endingOf('s-2', 'e-2'), endingOf('s-nobody', 'e-3')], AT)).to.equal(1);
      expect(await store.getSubscription('s-1')).to.include({ state: 'ended', endReason: 'consent_revoked', endedAt: AT });
      expect(await store.activeSubscriptionsOfConsent('c-1')).to.deep.equal([]);
      expect(ids(await store.eventsAfter('bank-1', 0, 10))).to.deep.equal(['e-1', 'e-2']);
      expect(await store.getEvent('e-1')).to.include({ type: 'consent.revoked', subscriptionId: 's-1', state: 'pending', attempts: 0, jws: undefined });
      expect(await store.getEvent('e-1-again')).to.equal(undefined);
    });

    it('stores an event as given, pending and due from its creation', async () => {
      const added = outboxEvent('e-1', { subscriptionId: 's-1' });
      await addEvents(store, [added]);
      expect(await store.getEvent('e-1')).to.deep.include({
        ...added, state: 'pending', attempts: 0, jws: undefined, auditIndex: undefined, lastError: undefined, deliveredAt: undefined,
        retryFrom: CREATED_MS, nextAttemptAt: CREATED_MS,
      });
      expect(await store.getEvent('e-nobody')).to.equal(undefined);
    });

    it('hands out due events only to banks with a webhook, in order, and only once they are due', async () => {
      await addBanks('bank-1', 'bank-2');
      await store.setWebhook(webhook('bank-1'));
      const later = '2026-11-26T01:00:00.000Z';
      await addEvents(store, [outboxEvent('e-1'), outboxEvent('e-2', { bankId: 'bank-2' }), outboxEvent('e-3'), outboxEvent('e-4', { createdAt: later })]);
      expect(await store.banksWithDueEvents(CREATED_MS - 1)).to.deep.equal([]);
      expect(await store.banksWithDueEvents(CREATED_MS)).to.deep.equal(['bank-1']);
      expect(ids(await store.dueEvents('bank-1', CREATED_MS, 10))).to.deep.equal(['e-1', 'e-3']);
      expect(ids(await store.dueEvents('bank-1', Date.parse(later), 10))).to.deep.equal(['e-1', 'e-3', 'e-4']);
      expect(ids(await store.dueEvents('bank-1', Date.parse(later), 2))).to.deep.equal(['e-1', 'e-3']);
      await store.markEventDelivered('e-1', AT);
      expect(ids(await store.dueEvents('bank-1', Date.parse(later), 10))).to.deep.equal(['e-3', 'e-4']);
      await store.setWebhook(webhook('bank-2'));
      expect((await store.banksWithDueEvents(CREATED_MS)).sort()).to.deep.equal(['bank-1', 'bank-2']);
    });

    it('pages a bank\'s events after a cursor whatever their state, and lists and counts all events by state and bank', async () => {
      const events: NewOutboxEvent[] = [outboxEvent('e-1'), outboxEvent('e-2', { bankId: 'bank-2' }), outboxEvent('e-3'), outboxEvent('e-4')];
      await addEvents(store, events);
      await store.markEventDelivered('e-1', AT);
      await store.markEventFailed('e-3', { attempts: 5, nextAttemptAt: CREATED_MS, error: 'gone', dead: true });
      const first = await store.eventsAfter('bank-1', 0, 2);
      expect(first.map((event) => [event.eventId, event.state])).to.deep.equal([['e-1', 'delivered'], ['e-3', 'dead']]);
      expect(ids(await store.eventsAfter('bank-1', first[1]!.seq, 2))).to.deep.equal(['e-4']);
      expect(ids(await store.listEvents({}, 0, 10))).to.deep.equal(['e-1', 'e-2', 'e-3', 'e-4']);
      expect(ids(await store.listEvents({ state: 'pending' }, 0, 10))).to.deep.equal(['e-2', 'e-4']);
      expect(ids(await store.listEvents({ state: 'pending', bankId: 'bank-1' }, 0, 10))).to.deep.equal(['e-4']);
      expect(ids(await store.listEvents({ bankId: 'bank-1' }, first[0]!.seq, 1))).to.deep.equal(['e-3']);
      expect(await store.countEvents()).to.deep.equal({ pending: 2, delivered: 1, dead: 1 });
    });

    it('counts no events of an empty outbox in every state', async () => {
      expect(await store.countEvents()).to.deep.equal({ pending: 0, delivered: 0, dead: 0 });
    });

    it('signs an event once: a second signature leaves the first JWS and its audit index', async () => {
      await addEvents(store, [outboxEvent('e-1')]);
      await store.markEventSigned('e-1', 'first.jws.value', 7);
      await store.markEventSigned('e-1', 'second.jws.value', 8);
      expect(await store.getEvent('e-1')).to.include({ jws: 'first.jws.value', auditIndex: 7 });
    });

    it('takes a pending event to delivered or dead only: a delivered one is not failed, a dead one not delivered', async () => {
      await addEvents(store, [outboxEvent('e-1'), outboxEvent('e-2'), outboxEvent('e-3')]);
      await store.markEventFailed('e-1', { attempts: 1, nextAttemptAt: CREATED_MS + 60_000, error: 'HTTP 503', dead: false });
      expect(await store.getEvent('e-1')).to.include({ state: 'pending', attempts: 1, nextAttemptAt: CREATED_MS + 60_000, lastError: 'HTTP 503' });
      expect(await store.dueEvents('bank-1', CREATED_MS, 10).then(ids)).to.deep.equal(['e-2', 'e-3']);
      await store.markEventDelivered('e-1', AT);
      expect(await store.getEvent('e-1')).to.include({ state: 'delivered', deliveredAt: AT, attempts: 2, lastError: undefined });
      await store.markEventFailed('e-1', { attempts: 3, nextAttemptAt: CREATED_MS, error: 'late', dead: true });
      expect(await store.getEvent('e-1')).to.include({ state: 'delivered', attempts: 2 });
      await store.markEventFailed('e-2', { attempts: 9, nextAttemptAt: CREATED_MS, error: 'gave up', dead: true });
      expect(await store.getEvent('e-2')).to.include({ state: 'dead', attempts: 9, lastError: 'gave up' });
      await store.markEventDelivered('e-2', AT);
      expect(await store.getEvent('e-2')).to.include({ state: 'dead', deliveredAt: undefined });
      expect(ids(await store.dueEvents('bank-1', CREATED_MS + 60_000, 10))).to.deep.equal(['e-3']);
    });

    it('replays dead events only, by id or all of them, back to pending with their horizon restarting now', async () => {
      await addEvents(store, [outboxEvent('e-1'), outboxEvent('e-2'), outboxEvent('e-3'), outboxEvent('e-4')]);
      for (const eventId of ['e-1', 'e-2', 'e-3']) await store.markEventFailed(eventId, { attempts: 9, nextAttemptAt: CREATED_MS, error: 'gave up', dead: true });
      const now = CREATED_MS + 3_600_000;
      expect(await store.replayEvents(['e-1', 'e-4', 'e-nobody'], now)).to.deep.equal(['e-1']);
      expect(await store.getEvent('e-1')).to.include({ state: 'pending', attempts: 0, retryFrom: now, nextAttemptAt: now, lastError: undefined });
      expect(await store.getEvent('e-4')).to.include({ state: 'pending', retryFrom: CREATED_MS });
      expect((await store.replayEvents('all_dead', now + 1)).sort()).to.deep.equal(['e-2', 'e-3']);
      expect(await store.replayEvents('all_dead', now + 2)).to.deep.equal([]);
      expect(await store.countEvents()).to.deep.equal({ pending: 4, delivered: 0, dead: 0 });
    });
  });
}
