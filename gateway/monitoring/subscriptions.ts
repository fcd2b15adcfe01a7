/**
 * Subscriptions: a bank watches one subject under one active `post_loan_management` consent that covers the
 * questions of the monitor rules it chooses. Creating one stores the current answers as the baseline (no alert for
 * what is already so); from then on ingestion compares against them (changes.ts).
 *
 * A subscription ends when the bank ends it, or by itself when its consent is revoked, replaced, exhausted or
 * expires: revocation and replacement end it at once (the consent service's hook, inside the consent's lock), and a
 * sweep catches expiry and anything a crash left behind. Ingestion never alerts under a consent that is not active
 * and unexpired, whether or not the sweep has run. Each automatic ending puts a `consent.revoked` or
 * `consent.expired` event on the bank's channel.
 */
import type { BlindIndexKey } from '../crypto/index.js';
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/index.js';
import type { ConsentService } from '../consent/index.js';
import { createBlindIndexer } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { Principal } from '../identity/index.js';
import { todayInShanghai } from '../ingest/index.js';
import { MONITOR_PURPOSE } from '../policies/index.js';
import type { MonitorRules, QuestionCatalog } from '../policies/index.js';
import type { RecordReader } from '../records/index.js';
import type { ConsentRecord, ConsentStore, MonitorStore, NewOutboxEvent, SubscriptionEnding, SubscriptionRecord } from '../store/index.js';
import { answersFor, encodeAnswer } from './changes.js';
import type { ConsentEndedClaims } from './events.js';
import { cursorOf, seqOf } from '../store/cursor.js';

export interface SubscriptionRequest {
  readonly consent_id: string;
  readonly subject: { readonly uscc: string };
  /** Monitor rule ids; all the rules whose questions the consent covers when absent. */
  readonly rules?: readonly string[] | undefined;
}

export interface SubscriptionView {
  readonly subscription_id: string;
  readonly consent_id: string;
  readonly subject: { readonly uscc: string };
  readonly rules: readonly string[];
  readonly state: 'active' | 'ended';
  readonly end_reason: string | null;
  readonly created_at: string;
  readonly ended_at: string | null;
  readonly audit_index: number;
}

export interface SubscriptionService {
  subscribe(principal: Principal, request: SubscriptionRequest): Promise<SubscriptionView>;
  list(principal: Principal, cursor: string | undefined, limit: number): Promise<{ subscriptions: SubscriptionView[]; nextCursor: string | null }>;
  /** Ends the bank's own subscription; the same not_found for one that is someone else's. */
  end(principal: Principal, subscriptionId: string): Promise<SubscriptionView>;
  /** The consent service's hook: ends the consent's subscriptions and tells the bank. */
  consentEnded(consent: ConsentRecord, reason: 'revoked' | 'replaced'): Promise<void>;
  /** Ends subscriptions whose consent expired or ended without the hook (a crash); returns how many. */
  sweep(): Promise<number>;
}

export interface SubscriptionDependencies {
  readonly store: MonitorStore & ConsentStore;
  readonly consents: Pick<ConsentService, 'exclusive' | 'stateOf'>;
  readonly questions: QuestionCatalog;
  readonly rules: MonitorRules;
  readonly records: RecordReader;
  readonly blindIndexKey: BlindIndexKey;
  readonly audit: AuditLog;
  readonly now: () => Date;
  /** Called when endings wrote events, to wake the delivery worker. */
  readonly onEvents?: (() => void) | undefined;
}

const SWEEP_BATCH = 1000;

function view(subscription: SubscriptionRecord): SubscriptionView {
  return {
    subscription_id: subscription.subscriptionId, consent_id: subscription.consentId, subject: { uscc: subscription.uscc },
    rules: subscription.rules, state: subscription.state, end_reason: subscription.endReason ?? null, created_at: subscription.createdAt,
    ended_at: subscription.endedAt ?? null, audit_index: subscription.auditIndex,
  };
}



export function createSubscriptionService(deps: SubscriptionDependencies): SubscriptionService {
  const indexer = createBlindIndexer(deps.blindIndexKey);

  function endingEvent(subscription: SubscriptionRecord, type: ConsentEndedClaims['type'], reason: string, at: string): NewOutboxEvent {
    const eventId = randomUUID();
    const claims: ConsentEndedClaims = {
      type, event_id: eventId, subscription_id: subscription.subscriptionId, consent_id: subscription.consentId,
      subject: { uscc: subscription.uscc }, reason, raised_at: at,
    };
    return { eventId, bankId: subscription.bankId, type, subscriptionId: subscription.subscriptionId, content: JSON.stringify(claims), createdAt: at };
  }

  async function endAll(endings: SubscriptionEnding[], at: string): Promise<number> {
    if (endings.length === 0) return 0;
    const ended = await deps.store.endSubscriptions(endings, at);
    if (ended > 0 && deps.onEvents) setImmediate(deps.onEvents);
    return ended;
  }

  return {
    async subscribe(principal, request) {
      // Whose consent it is, first and without waiting: another bank's consent id is neither waited for nor delayed.
      const found = await deps.store.getConsent(request.consent_id);
      if (!found || found.bankId !== principal.participantId || found.uscc !== request.subject.uscc) {
        throw new GatewayError('consent_missing', 'no consent of this bank about this subject has this id');
      }
      return deps.consents.exclusive(request.consent_id, async () => {
        // Read again inside the lock: its state may have changed while waiting.
        const consent = await deps.store.getConsent(request.consent_id) as ConsentRecord;
        const nowSeconds = Math.floor(deps.now().getTime() / 1000);
        const state = await deps.consents.stateOf(consent);
        if (state !== 'active' || consent.notBefore > nowSeconds) {
          throw new GatewayError('consent_not_active', `the consent is ${state}`);
        }
        if (consent.purpose !== MONITOR_PURPOSE) {
          throw new GatewayError('purpose_not_allowed', `monitoring needs a ${MONITOR_PURPOSE} consent, not ${consent.purpose}`);
        }
        const rules = request.rules === undefined
          ? deps.rules.rules.filter((rule) => consent.questions.includes(rule.question))
          : [...new Set(request.rules)].map((id) => deps.rules.get(id));
        if (rules.length === 0) throw new GatewayError('question_not_covered', 'the consent covers no monitored question');
        const uncovered = rules.filter((rule) => !consent.questions.includes(rule.question));
        if (uncovered.length > 0) {
          throw new GatewayError('question_not_covered', `the consent does not cover: ${uncovered.map((rule) => rule.question).join(', ')}`);
        }
        const subscriptionId = randomUUID();
        const ruleIds = rules.map((rule) => rule.id);
        const appended = await deps.audit.append({
          kind: 'subscription.created',
          actor: principal.participantId,
          subject: consent.uscc,
          consentId: consent.consentId,
          details: { subscription_id: subscriptionId, rules: ruleIds, request_sha256: principal.requestSha256 },
        });
        const questions = [...new Set(rules.map((rule) => rule.question))].map((id) => deps.questions.get(id));
        const subject = { idType: 'uscc' as const, idNumber: consent.uscc };
        await deps.store.addSubscription({
          subscriptionId, bankId: principal.participantId, consentId: consent.consentId, uscc: consent.uscc,
          subjectIndex: indexer.subject(subject), rules: ruleIds, createdAt: deps.now().toISOString(), auditIndex: appended.index,
        }, async () => {
          const answers = await answersFor(questions, todayInShanghai(deps.now()), async (dataset) =>
            (await deps.records.bySubject(dataset, subject)).map((record) => ({ values: record.values, asOf: record.asOf })));
          return [...answers].map(([questionId, answer]) => ({ subscriptionId, questionId, answer: encodeAnswer(answer.answer) }));
        });
        return view(await deps.store.getSubscription(subscriptionId) as SubscriptionRecord);
      });
    },

    async list(principal, cursor, limit) {
      const rows = await deps.store.listSubscriptions(principal.participantId, seqOf(cursor), limit);
      const last = rows.at(-1);
      return { subscriptions: rows.map(view), nextCursor: rows.length === limit && last ? cursorOf(last.seq) : null };
    },

    async end(principal, subscriptionId) {
      const subscription = await deps.store.getSubscription(subscriptionId);
      if (!subscription || subscription.bankId !== principal.participantId) throw new GatewayError('not_found', 'no such subscription');
      if (subscription.state === 'active') {
        await deps.audit.append({
          kind: 'subscription.ended',
          actor: principal.participantId,
          subject: subscription.uscc,
          consentId: subscription.consentId,
          details: { subscription_id: subscriptionId, reason: 'ended_by_bank', request_sha256: principal.requestSha256 },
        });
        await deps.store.endSubscriptions([{ subscriptionId, reason: 'ended_by_bank', event: undefined }], deps.now().toISOString());
      }
      return view(await deps.store.getSubscription(subscriptionId) as SubscriptionRecord);
    },

    async consentEnded(consent, reason) {
      const at = deps.now().toISOString();
      await endAll((await deps.store.activeSubscriptionsOfConsent(consent.consentId)).map((subscription) => ({
        subscriptionId: subscription.subscriptionId, reason, event: endingEvent(subscription, 'consent.revoked', reason, at),
      })), at);
    },

    async sweep() {
      const at = deps.now().toISOString();
      const found = await deps.store.subscriptionsOfEndedConsents(Math.floor(deps.now().getTime() / 1000), SWEEP_BATCH);
      return endAll(found.map(({ subscription, consentState }) => {
        // A consent whose row still says active has passed its exp: that is expiry, which is never stored.
        const reason = consentState === 'active' ? 'expired' : consentState;
        const type = reason === 'revoked' || reason === 'replaced' ? 'consent.revoked' : 'consent.expired';
        return { subscriptionId: subscription.subscriptionId, reason, event: endingEvent(subscription, type, reason, at) };
      }), at);
    },
  };
}
