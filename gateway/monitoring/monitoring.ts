/**
 * Risk monitoring, assembled: subscriptions, change detection in the ingestion transaction, event signing, the
 * delivery worker, the banks' pull feed and the operator's dead-letter tools (docs/monitoring.md).
 */
import type { BlindIndexKey } from '../crypto/index.js';
import type { AuditLog } from '../audit/index.js';
import type { AlertDeliveryConfig } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import type { Principal } from '../identity/index.js';
import type { DataKeyring } from '../keys/index.js';
import type { Logger } from '../observability/index.js';
import type { MonitorRules, QuestionCatalog } from '../policies/index.js';
import type { RecordReader } from '../records/index.js';
import type { GatewaySigner } from '../signing/signer.js';
import type { BatchTransaction, ConsentRecord, OutboxEvent, OutboxState, Store } from '../store/index.js';
import type { ConsentService } from '../consent/index.js';
import { openWebhookSecret } from '../identity/webhooks.js';
import type { WebhookTarget } from '../identity/webhookTarget.js';
import { createChangeDetector } from './changes.js';
import { createDeliveryWorker } from './delivery.js';
import type { DeliveryWorker } from './delivery.js';
import { createEventSigner } from './events.js';
import { cursorOf, seqOf } from '../store/cursor.js';
import { createSubscriptionService } from './subscriptions.js';
import type { SubscriptionService } from './subscriptions.js';

/** One entry of the pull feed. */
export interface FeedEntry {
  readonly event_id: string;
  readonly type: string;
  /** The signed event, the same bytes a webhook delivery carries. */
  readonly alert: string;
  readonly cursor: string;
}

/** An outbox event as the operator sees it: delivery bookkeeping, no claims beyond type and bank. */
export interface OutboxSummary {
  readonly event_id: string;
  readonly bank: string;
  readonly type: string;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly created_at: string;
  readonly next_attempt_at: string | null;
  readonly last_error: string | null;
  readonly delivered_at: string | null;
}

export interface Monitoring {
  readonly subscriptions: SubscriptionService;
  readonly delivery: DeliveryWorker;
  /** Ingestion's beforeCommit hook. */
  beforeCommit(transaction: BatchTransaction, dataset: string): Promise<void>;
  /** The consent service's onConsentEnded hook. */
  consentEnded(consent: ConsentRecord, reason: 'revoked' | 'replaced'): Promise<void>;
  /** A bank's events after the cursor, signed. */
  feed(principal: Principal, cursor: string | undefined, limit: number): Promise<{ events: FeedEntry[]; nextCursor: string }>;
  listEvents(filter: { state?: OutboxState | undefined; bankId?: string | undefined }, limit: number): Promise<OutboxSummary[]>;
  /** Dead events (these ids, or all) back to pending; an audit entry names them. */
  replay(eventIds: readonly string[] | 'all_dead'): Promise<string[]>;
}

export interface MonitoringDependencies {
  readonly store: Store;
  readonly questions: QuestionCatalog;
  readonly rules: MonitorRules;
  readonly keyring: DataKeyring;
  readonly blindIndexKey: BlindIndexKey;
  readonly records: RecordReader;
  readonly audit: AuditLog;
  readonly signer: GatewaySigner;
  /** Resolved late: the consent service is built with this module's hook. */
  readonly consents: () => Pick<ConsentService, 'exclusive' | 'stateOf'>;
  readonly delivery: AlertDeliveryConfig;
  readonly logger: Logger;
  /** Resolves and checks a webhook URL's host before each delivery (identity/webhookTarget.ts). */
  readonly resolveTarget: (url: string) => Promise<WebhookTarget>;
  readonly now?: () => Date;
}

/** How often subscriptions of expired consents are looked for. */
const SWEEP_INTERVAL_MS = 5000;

function summary(event: OutboxEvent): OutboxSummary {
  return {
    event_id: event.eventId, bank: event.bankId, type: event.type, state: event.state, attempts: event.attempts, created_at: event.createdAt,
    next_attempt_at: event.state === 'pending' ? new Date(event.nextAttemptAt).toISOString() : null, last_error: event.lastError ?? null,
    delivered_at: event.deliveredAt ?? null,
  };
}

export function createMonitoring(deps: MonitoringDependencies): Monitoring {
  const now = deps.now ?? (() => new Date());
  let delivery: DeliveryWorker | undefined;
  const wake = () => delivery?.nudge();
  const events = createEventSigner({ store: deps.store, signer: deps.signer, audit: deps.audit });
  const subscriptions = createSubscriptionService({
    store: deps.store, consents: { exclusive: (id, work) => deps.consents().exclusive(id, work), stateOf: (consent) => deps.consents().stateOf(consent) },
    questions: deps.questions, rules: deps.rules, records: deps.records, blindIndexKey: deps.blindIndexKey, audit: deps.audit, now, onEvents: wake,
  });
  let lastSweep = 0;
  delivery = createDeliveryWorker({
    store: deps.store, events, config: deps.delivery, logger: deps.logger, resolveTarget: deps.resolveTarget,
    openSecret: (webhook) => openWebhookSecret(deps.keyring, webhook),
    async housekeeping() {
      if (Date.now() - lastSweep < SWEEP_INTERVAL_MS) return;
      lastSweep = Date.now();
      await subscriptions.sweep();
    },
  });
  const detect = createChangeDetector({ questions: deps.questions, rules: deps.rules, keyring: deps.keyring, now, onEvents: wake });
  return {
    subscriptions,
    delivery,
    beforeCommit: detect,
    consentEnded: (consent, reason) => subscriptions.consentEnded(consent, reason),
    async feed(principal, cursor, limit) {
      const after = seqOf(cursor);
      const rows = await deps.store.eventsAfter(principal.participantId, after, limit);
      const entries: FeedEntry[] = [];
      for (const row of rows) entries.push({ event_id: row.eventId, type: row.type, alert: await events.signed(row), cursor: cursorOf(row.seq) });
      return { events: entries, nextCursor: cursorOf(rows.at(-1)?.seq ?? after) };
    },
    listEvents: async (filter, limit) => (await deps.store.listEvents(filter, 0, limit)).map(summary),
    async replay(eventIds) {
      if (eventIds !== 'all_dead') {
        const stored = await Promise.all(eventIds.map((id) => deps.store.getEvent(id)));
        const unknown = eventIds.filter((_, index) => stored[index] === undefined);
        if (unknown.length > 0) throw new GatewayError('not_found', `no such alert: ${unknown.join(', ')}`);
        const notDead = eventIds.filter((_, index) => stored[index]?.state !== 'dead');
        if (notDead.length > 0) throw new GatewayError('invalid_argument', `not dead-lettered: ${notDead.join(', ')}`);
      }
      const dead = eventIds === 'all_dead' ? (await deps.store.listEvents({ state: 'dead' }, 0, Number.MAX_SAFE_INTEGER)).map((event) => event.eventId) : eventIds;
      if (dead.length === 0) return [];
      await deps.audit.append({ kind: 'alert.replayed', actor: 'operator', details: { event_ids: [...dead] } });
      const replayed = await deps.store.replayEvents(dead, now().getTime());
      wake();
      return replayed;
    },
  };
}
