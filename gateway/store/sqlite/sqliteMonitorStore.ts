/**
 * Monitoring tables on SQLite (migration 0005): webhooks, subscriptions, their last answers and the outbox. The
 * batch transaction part runs on a batch writer's own connection, inside its open transaction, so what monitoring
 * writes for a batch commits with the batch's records or not at all.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { GatewayError } from '../../errors/index.js';
import type {
  BatchTransaction, MonitorAnswer, MonitorStore, NewOutboxEvent, OutboxEvent, OutboxState, StoredConsentState, SubscriptionRecord, WatchedSubject, WebhookRecord,
} from '../store.js';
import { objectionTransaction } from './sqliteReportStore.js';
import { createSerial, type Serial, type Synchronous } from './serial.js';
import type { UplinkBatchTransaction } from '../uplinkStore.js';

type MonitorBatchTransaction = Omit<BatchTransaction, keyof UplinkBatchTransaction>;

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
}

interface WebhookRow {
  participant_id: string;
  url: string;
  secret: string;
  created_at: string;
  updated_at: string;
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

const INSERT_EVENT = `INSERT INTO outbox (event_id, bank_id, type, subscription_id, content, created_at, state, retry_from, next_attempt_at)
  VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`;

export function insertEvents(db: SqliteDatabase, events: readonly NewOutboxEvent[]): void {
  const insert = db.prepare(INSERT_EVENT);
  for (const event of events) {
    const at = Date.parse(event.createdAt);
    insert.run(event.eventId, event.bankId, event.type, event.subscriptionId ?? null, event.content, event.createdAt, at, at);
  }
}

/**
 * The monitoring statements, synchronous on `db`, and addSubscription, whose baseline is computed asynchronously
 * inside the subscription's write transaction (so no batch commits in between).
 */
export function monitorStore(db: SqliteDatabase, serial: Serial): {
  synchronous: Synchronous<Omit<MonitorStore, 'addSubscription'>>;
  addSubscription: MonitorStore['addSubscription'];
} {
  const statements = {
    webhook: db.prepare('SELECT * FROM webhooks WHERE participant_id = ?'),
    webhooks: db.prepare('SELECT * FROM webhooks ORDER BY participant_id'),
    setWebhook: db.prepare(`INSERT INTO webhooks (participant_id, url, secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (participant_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at`),
    insertSubscription: db.prepare(`INSERT INTO subscriptions (subscription_id, bank_id, consent_id, uscc, subject_index, rules, state, created_at, audit_index)
      VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)`),
    setAnswer: db.prepare('INSERT OR REPLACE INTO monitor_answers (subscription_id, question_id, answer) VALUES (?, ?, ?)'),
    subscription: db.prepare('SELECT * FROM subscriptions WHERE subscription_id = ?'),
    byBank: db.prepare('SELECT * FROM subscriptions WHERE bank_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    activeOfConsent: db.prepare(`SELECT * FROM subscriptions WHERE consent_id = ? AND state = 'active'`),
    ofEndedConsents: db.prepare(`SELECT s.*, c.state AS consent_state FROM subscriptions s JOIN consents c ON c.consent_id = s.consent_id
      WHERE s.state = 'active' AND (c.state <> 'active' OR c.expires_at <= ?) ORDER BY s.seq LIMIT ?`),
    end: db.prepare(`UPDATE subscriptions SET state = 'ended', end_reason = ?, ended_at = ? WHERE subscription_id = ? AND state = 'active'`),
    dueBanks: db.prepare(`SELECT DISTINCT bank_id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?
      AND bank_id IN (SELECT participant_id FROM webhooks)`),
    due: db.prepare(`SELECT * FROM outbox WHERE state = 'pending' AND bank_id = ? AND next_attempt_at <= ? ORDER BY seq LIMIT ?`),
    after: db.prepare('SELECT * FROM outbox WHERE bank_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    countByState: db.prepare('SELECT state, count(*) AS n FROM outbox GROUP BY state'),
    list: db.prepare(`SELECT * FROM outbox WHERE (@state IS NULL OR state = @state) AND (@bank IS NULL OR bank_id = @bank) AND seq > @after ORDER BY seq LIMIT @limit`),
    event: db.prepare('SELECT * FROM outbox WHERE event_id = ?'),
    signed: db.prepare('UPDATE outbox SET jws = ?, audit_index = ? WHERE event_id = ? AND jws IS NULL'),
    delivered: db.prepare(`UPDATE outbox SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE event_id = ? AND state = 'pending'`),
    failed: db.prepare(`UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE event_id = ? AND state = 'pending'`),
    replayOne: db.prepare(`UPDATE outbox SET state = 'pending', attempts = 0, retry_from = ?, next_attempt_at = ?, last_error = NULL
      WHERE event_id = ? AND state = 'dead' RETURNING event_id`),
    replayDead: db.prepare(`UPDATE outbox SET state = 'pending', attempts = 0, retry_from = ?, next_attempt_at = ?, last_error = NULL
      WHERE state = 'dead' RETURNING event_id`),
  };
  return {
    addSubscription: (subscription, baseline) => serial.transaction(async () => {
      try {
        statements.insertSubscription.run(
          subscription.subscriptionId, subscription.bankId, subscription.consentId, subscription.uscc, subscription.subjectIndex,
          JSON.stringify(subscription.rules), subscription.createdAt, subscription.auditIndex,
        );
      } catch (error) {
        if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new GatewayError('subscription_exists', 'the consent already has an active subscription');
        }
        throw error;
      }
      for (const answer of await baseline()) statements.setAnswer.run(answer.subscriptionId, answer.questionId, answer.answer);
    }),
    synchronous: {
    getWebhook(participantId) {
      const row = statements.webhook.get(participantId) as WebhookRow | undefined;
      return row && toWebhook(row);
    },
    listWebhooks: () => (statements.webhooks.all() as WebhookRow[]).map(toWebhook),
    setWebhook(webhook) {
      statements.setWebhook.run(webhook.participantId, webhook.url, webhook.secret, webhook.createdAt, webhook.updatedAt);
    },
    getSubscription(subscriptionId) {
      const row = statements.subscription.get(subscriptionId) as SubscriptionRow | undefined;
      return row && toSubscription(row);
    },
    listSubscriptions: (bankId, afterSeq, limit) => (statements.byBank.all(bankId, afterSeq, limit) as SubscriptionRow[]).map(toSubscription),
    activeSubscriptionsOfConsent: (consentId) => (statements.activeOfConsent.all(consentId) as SubscriptionRow[]).map(toSubscription),
    subscriptionsOfEndedConsents: (nowSeconds, limit) =>
      (statements.ofEndedConsents.all(nowSeconds, limit) as (SubscriptionRow & { consent_state: StoredConsentState })[])
        .map((row) => ({ subscription: toSubscription(row), consentState: row.consent_state })),
    endSubscriptions: (endings, at) => db.transaction(() => {
      let ended = 0;
      for (const ending of endings) {
        if (statements.end.run(ending.reason, at, ending.subscriptionId).changes !== 1) continue;
        ended++;
        if (ending.event) insertEvents(db, [ending.event]);
      }
      return ended;
    }).immediate(),
    banksWithDueEvents: (nowMs) => (statements.dueBanks.all(nowMs) as { bank_id: string }[]).map((row) => row.bank_id),
    dueEvents: (bankId, nowMs, limit) => (statements.due.all(bankId, nowMs, limit) as OutboxRow[]).map(toEvent),
    eventsAfter: (bankId, afterSeq, limit) => (statements.after.all(bankId, afterSeq, limit) as OutboxRow[]).map(toEvent),
    listEvents: (filter, afterSeq, limit) =>
      (statements.list.all({ state: filter.state ?? null, bank: filter.bankId ?? null, after: afterSeq, limit }) as OutboxRow[]).map(toEvent),
    countEvents() {
      const counts: Record<OutboxState, number> = { pending: 0, delivered: 0, dead: 0 };
      for (const row of statements.countByState.all() as { state: OutboxState; n: number }[]) counts[row.state] = row.n;
      return counts;
    },
    getEvent(eventId) {
      const row = statements.event.get(eventId) as OutboxRow | undefined;
      return row && toEvent(row);
    },
    markEventSigned(eventId, jws, auditIndex) {
      statements.signed.run(jws, auditIndex, eventId);
    },
    markEventDelivered(eventId, at) {
      statements.delivered.run(at, eventId);
    },
    markEventFailed(eventId, failure) {
      statements.failed.run(failure.dead ? 'dead' : 'pending', failure.attempts, failure.nextAttemptAt, failure.error.slice(0, 500), eventId);
    },
    replayEvents: (eventIds, nowMs) => db.transaction(() => {
      if (eventIds === 'all_dead') return (statements.replayDead.all(nowMs, nowMs) as { event_id: string }[]).map((row) => row.event_id);
      return eventIds.flatMap((id) => (statements.replayOne.all(nowMs, nowMs, id) as { event_id: string }[]).map((row) => row.event_id));
    }).immediate(),
    },
  };
}

/**
 * What a batch's beforeCommit sees of an open batch transaction on `writer`, whose records have ids firstId … lastId
 * (the uplink's part is sqliteUplinkStore.ts's).
 */
export function batchTransaction(writer: SqliteDatabase, firstId: number, lastId: number): MonitorBatchTransaction {
  return createSerial(writer).wrap(batchStatements(writer, firstId, lastId));
}

function batchStatements(writer: SqliteDatabase, firstId: number, lastId: number): Synchronous<MonitorBatchTransaction> {
  // Prepared on first use, on the writer's connection: the shared one would wait for this very transaction's lock.
  let prepared: Record<'datasetNo' | 'current' | 'answers' | 'setAnswer', Statement> | undefined;
  const statements = () => prepared ??= {
    datasetNo: writer.prepare('SELECT dataset_no FROM datasets WHERE dataset = ?'),
    // The subjects arrive as a JSON array of hex strings: a blob cannot travel in JSON, and one statement serves any count.
    current: writer.prepare(`SELECT r.subject_index, r.record_id, r.sealed, b.as_of FROM records r JOIN batches b ON b.batch_no = r.batch_no
      WHERE r.dataset_no = ? AND r.subject_index IN (SELECT unhex(value) FROM json_each(?)) AND r.superseded_by IS NULL ORDER BY r.record_id`),
    answers: writer.prepare('SELECT subscription_id, question_id, answer FROM monitor_answers WHERE subscription_id IN (SELECT value FROM json_each(?))'),
    setAnswer: writer.prepare('INSERT OR REPLACE INTO monitor_answers (subscription_id, question_id, answer) VALUES (?, ?, ?)'),
  };
  const datasetNumbers = new Map<string, number>();
  const datasetNo = (dataset: string): number => {
    let found = datasetNumbers.get(dataset);
    if (found === undefined) {
      found = (statements().datasetNo.get(dataset) as { dataset_no: number } | undefined)?.dataset_no ?? -1;
      datasetNumbers.set(dataset, found);
    }
    return found;
  };
  return {
    ...objectionTransaction(writer, firstId, lastId),
    watchedSubjects(nowSeconds) {
      // The common case, nobody subscribed, costs one probe of the partial index.
      const any = writer.prepare(`SELECT 1 FROM subscriptions WHERE state = 'active' LIMIT 1`).get();
      if (!any) return [];
      const rows = writer.prepare(`
        SELECT s.subscription_id, s.bank_id, s.consent_id, s.uscc, s.subject_index, s.rules FROM subscriptions s
        JOIN consents c ON c.consent_id = s.consent_id AND c.state = 'active' AND c.expires_at > ?
        JOIN participants p ON p.uscc = c.uscc AND p.role = 'enterprise' AND p.status = 'active'
        WHERE s.state = 'active' AND s.subject_index IN (SELECT subject_index FROM records WHERE record_id BETWEEN ? AND ?)`)
        .all(nowSeconds, firstId, lastId) as Pick<SubscriptionRow, 'subscription_id' | 'bank_id' | 'consent_id' | 'uscc' | 'subject_index' | 'rules'>[];
      return rows.map((row): WatchedSubject => ({
        subscriptionId: row.subscription_id, bankId: row.bank_id, consentId: row.consent_id, uscc: row.uscc, subjectIndex: row.subject_index,
        rules: JSON.parse(row.rules) as string[],
      }));
    },
    currentRecords(dataset, subjectIndexes) {
      const subjects = JSON.stringify(subjectIndexes.map((index) => Buffer.from(index).toString('hex')));
      const rows = statements().current.all(datasetNo(dataset), subjects) as { subject_index: Buffer; record_id: number; sealed: Buffer; as_of: string }[];
      return rows.map((row) => ({ subjectIndex: row.subject_index, recordId: row.record_id, sealed: row.sealed, asOf: row.as_of }));
    },
    monitorAnswers(subscriptionIds) {
      return (statements().answers.all(JSON.stringify(subscriptionIds)) as { subscription_id: string; question_id: string; answer: string }[])
        .map((row): MonitorAnswer => ({ subscriptionId: row.subscription_id, questionId: row.question_id, answer: row.answer }));
    },
    setMonitorAnswers(answers) {
      for (const answer of answers) statements().setAnswer.run(answer.subscriptionId, answer.questionId, answer.answer);
    },
    addEvents(events) {
      insertEvents(writer, events);
    },
  };
}
