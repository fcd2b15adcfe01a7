/**
 * Monitoring on PostgreSQL: webhooks, subscriptions, their last answers and the outbox (the SQLite engine's migration
 * 0005 and sqliteMonitorStore.ts, statement for statement). The batch-transaction part runs on the batch's own
 * client inside its open transaction, so what monitoring writes for a batch commits with its records or not at all.
 */
import { GatewayError } from '../../errors/index.js';
import type {
  BatchTransaction, MonitorAnswer, MonitorStore, NewOutboxEvent, OutboxEvent, OutboxState, StoredConsentState, SubscriptionRecord, WatchedSubject, WebhookRecord,
} from '../store.js';
import { bytes, isUniqueViolation, type Database, type Queryable } from './pgDatabase.js';
import { objectionTransaction } from './pgReportStore.js';
import type { UplinkBatchTransaction } from '../uplinkStore.js';

interface SubscriptionRow {
  seq: number;
  subscription_id: string;
  bank_id: string;
  consent_id: string;
  uscc: string;
  subject_index: Buffer;
  rules: string;
  state: 'active' | 'ended';
  end_reason: string | null;
  created_at: string;
  ended_at: string | null;
  audit_index: number;
  [column: string]: unknown;
}

interface OutboxRow {
  seq: number;
  event_id: string;
  bank_id: string;
  type: NewOutboxEvent['type'];
  subscription_id: string | null;
  content: string;
  created_at: string;
  jws: string | null;
  audit_index: number | null;
  state: OutboxState;
  attempts: number;
  retry_from: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: string | null;
  [column: string]: unknown;
}

interface WebhookRow {
  participant_id: string;
  url: string;
  secret: string;
  created_at: string;
  updated_at: string;
  [column: string]: unknown;
}

function toWebhook(row: WebhookRow): WebhookRecord {
  return { participantId: row.participant_id, url: row.url, secret: row.secret, createdAt: row.created_at, updatedAt: row.updated_at };
}

function toSubscription(row: SubscriptionRow): SubscriptionRecord {
  return {
    seq: row.seq, subscriptionId: row.subscription_id, bankId: row.bank_id, consentId: row.consent_id, uscc: row.uscc,
    subjectIndex: row.subject_index, rules: JSON.parse(row.rules) as string[], state: row.state, endReason: row.end_reason ?? undefined,
    createdAt: row.created_at, endedAt: row.ended_at ?? undefined, auditIndex: row.audit_index,
  };
}

function toEvent(row: OutboxRow): OutboxEvent {
  return {
    seq: row.seq, eventId: row.event_id, bankId: row.bank_id, type: row.type, subscriptionId: row.subscription_id ?? undefined, content: row.content,
    createdAt: row.created_at, jws: row.jws ?? undefined, auditIndex: row.audit_index ?? undefined, state: row.state, attempts: row.attempts,
    retryFrom: row.retry_from, nextAttemptAt: row.next_attempt_at, lastError: row.last_error ?? undefined, deliveredAt: row.delivered_at ?? undefined,
  };
}

/**
 * Takes, until the transaction ends, the lock that orders inserts into a table whose `seq` is a listing cursor: with
 * it, rows get their seq in commit order, so a reader paging by cursor never skips a row that commits late with a
 * lower seq (SQLite has one writer at a time, so there it is so by itself).
 */
export async function sequenceLock(q: Queryable, table: 'outbox' | 'consents' | 'subscriptions' | 'objections'): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`tx:seq:${table}`]);
}

/** The lock a subscription takes exclusively and a committing batch shared: no batch commits while a baseline is computed. */
export const MONITOR_LOCK = 'tx:monitor';

/** Inserts outbox events, inside the caller's transaction (one multi-row statement). */
export async function insertEvents(q: Queryable, events: readonly NewOutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  await sequenceLock(q, 'outbox');
  const at = events.map((event) => Date.parse(event.createdAt));
  await q.query(`INSERT INTO outbox (event_id, bank_id, type, subscription_id, content, created_at, state, retry_from, next_attempt_at)
    SELECT e, b, t, s, c, ca, 'pending', r, r FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
      WITH ORDINALITY AS u (e, b, t, s, c, ca, r, n) ORDER BY n`, [
    events.map((event) => event.eventId), events.map((event) => event.bankId), events.map((event) => event.type),
    events.map((event) => event.subscriptionId ?? null), events.map((event) => event.content), events.map((event) => event.createdAt), at,
  ]);
}

async function setAnswers(q: Queryable, given: readonly MonitorAnswer[]): Promise<void> {
  // The last answer for a (subscription, question) wins, as consecutive INSERT OR REPLACEs do on SQLite; one
  // statement may not update a row twice.
  const answers = [...new Map(given.map((answer) => [`${answer.subscriptionId}\u0000${answer.questionId}`, answer])).values()];
  if (answers.length === 0) return;
  await q.query(`INSERT INTO monitor_answers (subscription_id, question_id, answer)
    SELECT s, k, a FROM unnest($1::text[], $2::text[], $3::text[]) AS u (s, k, a)
    ON CONFLICT (subscription_id, question_id) DO UPDATE SET answer = excluded.answer`, [
    answers.map((answer) => answer.subscriptionId), answers.map((answer) => answer.questionId), answers.map((answer) => answer.answer),
  ]);
}

export function monitorStore(db: Database): MonitorStore {
  return {
    addSubscription: (subscription, baseline) => db.transaction(async (tx) => {
      // Exclusive against committing batches (they take it shared): none commits between the insert and the baseline.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [MONITOR_LOCK]);
      await sequenceLock(tx, 'subscriptions');
      try {
        await tx.query(`INSERT INTO subscriptions (subscription_id, bank_id, consent_id, uscc, subject_index, rules, state, created_at, audit_index)
          VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)`, [
          subscription.subscriptionId, subscription.bankId, subscription.consentId, subscription.uscc, bytes(subscription.subjectIndex),
          JSON.stringify(subscription.rules), subscription.createdAt, subscription.auditIndex,
        ]);
      } catch (error) {
        if (isUniqueViolation(error)) throw new GatewayError('subscription_exists', 'the consent already has an active subscription');
        throw error;
      }
      await setAnswers(tx, await baseline());
    }),
    async getWebhook(participantId) {
      const { rows } = await db.query<WebhookRow>('SELECT * FROM webhooks WHERE participant_id = $1', [participantId]);
      return rows[0] && toWebhook(rows[0]);
    },
    listWebhooks: async () => (await db.query<WebhookRow>('SELECT * FROM webhooks ORDER BY participant_id')).rows.map(toWebhook),
    async setWebhook(webhook) {
      await db.query(`INSERT INTO webhooks (participant_id, url, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (participant_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at`,
      [webhook.participantId, webhook.url, webhook.secret, webhook.createdAt, webhook.updatedAt]);
    },
    async getSubscription(subscriptionId) {
      const { rows } = await db.query<SubscriptionRow>('SELECT * FROM subscriptions WHERE subscription_id = $1', [subscriptionId]);
      return rows[0] && toSubscription(rows[0]);
    },
    listSubscriptions: async (bankId, afterSeq, limit) =>
      (await db.query<SubscriptionRow>('SELECT * FROM subscriptions WHERE bank_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [bankId, afterSeq, limit]))
        .rows.map(toSubscription),
    activeSubscriptionsOfConsent: async (consentId) =>
      (await db.query<SubscriptionRow>(`SELECT * FROM subscriptions WHERE consent_id = $1 AND state = 'active'`, [consentId])).rows.map(toSubscription),
    subscriptionsOfEndedConsents: async (nowSeconds, limit) =>
      (await db.query<SubscriptionRow & { consent_state: StoredConsentState }>(`SELECT s.*, c.state AS consent_state FROM subscriptions s
        JOIN consents c ON c.consent_id = s.consent_id
        WHERE s.state = 'active' AND (c.state <> 'active' OR c.expires_at <= $1) ORDER BY s.seq LIMIT $2`, [nowSeconds, limit]))
        .rows.map((row) => ({ subscription: toSubscription(row), consentState: row.consent_state })),
    endSubscriptions: (endings, at) => db.transaction(async (tx) => {
      let ended = 0;
      for (const ending of endings) {
        const { rowCount } = await tx.query(`UPDATE subscriptions SET state = 'ended', end_reason = $1, ended_at = $2
          WHERE subscription_id = $3 AND state = 'active'`, [ending.reason, at, ending.subscriptionId]);
        if (rowCount !== 1) continue;
        ended++;
        if (ending.event) await insertEvents(tx, [ending.event]);
      }
      return ended;
    }),
    banksWithDueEvents: async (nowMs) =>
      (await db.query<{ bank_id: string }>(`SELECT DISTINCT bank_id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1
        AND bank_id IN (SELECT participant_id FROM webhooks)`, [nowMs])).rows.map((row) => row.bank_id),
    dueEvents: async (bankId, nowMs, limit) =>
      (await db.query<OutboxRow>(`SELECT * FROM outbox WHERE state = 'pending' AND bank_id = $1 AND next_attempt_at <= $2 ORDER BY seq LIMIT $3`,
        [bankId, nowMs, limit])).rows.map(toEvent),
    eventsAfter: async (bankId, afterSeq, limit) =>
      (await db.query<OutboxRow>('SELECT * FROM outbox WHERE bank_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [bankId, afterSeq, limit])).rows.map(toEvent),
    listEvents: async (filter, afterSeq, limit) =>
      (await db.query<OutboxRow>(`SELECT * FROM outbox WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR bank_id = $2) AND seq > $3
        ORDER BY seq LIMIT $4`, [filter.state ?? null, filter.bankId ?? null, afterSeq, limit])).rows.map(toEvent),
    async countEvents() {
      const counts: Record<OutboxState, number> = { pending: 0, delivered: 0, dead: 0 };
      for (const row of (await db.query<{ state: OutboxState; n: number }>('SELECT state, count(*) AS n FROM outbox GROUP BY state')).rows) counts[row.state] = row.n;
      return counts;
    },
    async getEvent(eventId) {
      const { rows } = await db.query<OutboxRow>('SELECT * FROM outbox WHERE event_id = $1', [eventId]);
      return rows[0] && toEvent(rows[0]);
    },
    async markEventSigned(eventId, jws, auditIndex) {
      await db.query('UPDATE outbox SET jws = $1, audit_index = $2 WHERE event_id = $3 AND jws IS NULL', [jws, auditIndex, eventId]);
    },
    async markEventDelivered(eventId, at) {
      await db.query(`UPDATE outbox SET state = 'delivered', delivered_at = $1, attempts = attempts + 1, last_error = NULL
        WHERE event_id = $2 AND state = 'pending'`, [at, eventId]);
    },
    async markEventFailed(eventId, failure) {
      await db.query(`UPDATE outbox SET state = $1, attempts = $2, next_attempt_at = $3, last_error = $4 WHERE event_id = $5 AND state = 'pending'`,
        [failure.dead ? 'dead' : 'pending', failure.attempts, failure.nextAttemptAt, failure.error.slice(0, 500), eventId]);
    },
    replayEvents: (eventIds, nowMs) => db.transaction(async (tx) => {
      if (eventIds === 'all_dead') {
        return (await tx.query<{ event_id: string }>(`UPDATE outbox SET state = 'pending', attempts = 0, retry_from = $1, next_attempt_at = $1,
          last_error = NULL WHERE state = 'dead' RETURNING event_id`, [nowMs])).rows.map((row) => row.event_id);
      }
      const replayed: string[] = [];
      for (const id of eventIds) {
        const { rows } = await tx.query<{ event_id: string }>(`UPDATE outbox SET state = 'pending', attempts = 0, retry_from = $1, next_attempt_at = $1,
          last_error = NULL WHERE event_id = $2 AND state = 'dead' RETURNING event_id`, [nowMs, id]);
        replayed.push(...rows.map((row) => row.event_id));
      }
      return replayed;
    }),
  };
}

/**
 * What a batch's beforeCommit sees of its open transaction on `client`, whose records have ids firstId … lastId (the
 * uplink's part is pgUplinkStore.ts's).
 */
export function batchTransaction(client: Queryable, firstId: number, lastId: number): Omit<BatchTransaction, keyof UplinkBatchTransaction> {
  const datasetNumbers = new Map<string, number>();
  const datasetNo = async (dataset: string): Promise<number> => {
    let found = datasetNumbers.get(dataset);
    if (found === undefined) {
      found = (await client.query<{ dataset_no: number }>('SELECT dataset_no FROM datasets WHERE dataset = $1', [dataset])).rows[0]?.dataset_no ?? -1;
      datasetNumbers.set(dataset, found);
    }
    return found;
  };
  return {
    ...objectionTransaction(client, firstId, lastId),
    async watchedSubjects(nowSeconds) {
      // The common case, nobody subscribed, costs one probe of the partial index.
      if ((await client.query(`SELECT 1 FROM subscriptions WHERE state = 'active' LIMIT 1`)).rows.length === 0) return [];
      const { rows } = await client.query<Pick<SubscriptionRow, 'subscription_id' | 'bank_id' | 'consent_id' | 'uscc' | 'subject_index' | 'rules'>>(`
        SELECT s.subscription_id, s.bank_id, s.consent_id, s.uscc, s.subject_index, s.rules FROM subscriptions s
        JOIN consents c ON c.consent_id = s.consent_id AND c.state = 'active' AND c.expires_at > $1
        JOIN participants p ON p.uscc = c.uscc AND p.role = 'enterprise' AND p.status = 'active'
        WHERE s.state = 'active' AND s.subject_index IN (SELECT subject_index FROM records WHERE record_id BETWEEN $2 AND $3)`,
      [nowSeconds, firstId, lastId]);
      return rows.map((row): WatchedSubject => ({
        subscriptionId: row.subscription_id, bankId: row.bank_id, consentId: row.consent_id, uscc: row.uscc, subjectIndex: row.subject_index,
        rules: JSON.parse(row.rules) as string[],
      }));
    },
    async currentRecords(dataset, subjectIndexes) {
      const { rows } = await client.query<{ subject_index: Buffer; record_id: number; sealed: Buffer; as_of: string }>(`SELECT r.subject_index, r.record_id, r.sealed, b.as_of
        FROM records r JOIN batches b ON b.batch_no = r.batch_no
        WHERE r.dataset_no = $1 AND r.subject_index = ANY($2::bytea[]) AND r.superseded_by IS NULL ORDER BY r.record_id`,
      [await datasetNo(dataset), subjectIndexes.map(bytes)]);
      return rows.map((row) => ({ subjectIndex: row.subject_index, recordId: row.record_id, sealed: row.sealed, asOf: row.as_of }));
    },
    async monitorAnswers(subscriptionIds) {
      const { rows } = await client.query<{ subscription_id: string; question_id: string; answer: string }>(
        'SELECT subscription_id, question_id, answer FROM monitor_answers WHERE subscription_id = ANY($1::text[]) ORDER BY subscription_id, question_id', [subscriptionIds]);
      return rows.map((row): MonitorAnswer => ({ subscriptionId: row.subscription_id, questionId: row.question_id, answer: row.answer }));
    },
    setMonitorAnswers: (answers) => setAnswers(client, answers),
    addEvents: (events) => insertEvents(client, events),
  };
}
