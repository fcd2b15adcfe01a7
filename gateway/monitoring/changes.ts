/**
 * Change detection, run inside an ingested batch's transaction: for each subscription watching a subject that has a
 * record in the batch, re-evaluate the subscription's monitored questions that read the batch's dataset, compare
 * with the answers it last saw, store the new answers and write an outbox event for each rule that fires. All of it
 * is synchronous on the batch's connection, so the alerts commit with the data that caused them or not at all.
 * Subjects nobody watches cost nothing beyond one index probe.
 */
import { randomUUID } from 'node:crypto';
import { openValues } from '../records/index.js';
import { todayInShanghai } from '../ingest/index.js';
import type { DataKeyring } from '../keys/index.js';
import { evaluate, ruleFires, UNKNOWN } from '../policies/index.js';
import type { Answer, EvaluationRecord, MonitorRule, MonitorRules, Question, QuestionCatalog } from '../policies/index.js';
import type { BatchTransaction, MonitorAnswer, NewOutboxEvent, WatchedSubject } from '../store/index.js';
import { questionClaim } from './events.js';
import type { AlertClaims } from './events.js';

export interface ChangeDetectorDependencies {
  readonly questions: QuestionCatalog;
  readonly rules: MonitorRules;
  readonly keyring: DataKeyring;
  readonly now: () => Date;
  /** Called (after the current task) when a batch wrote events, to wake the delivery worker. */
  readonly onEvents?: (() => void) | undefined;
}

/** Reads current records through `read` and evaluates `questions` about one subject today. */
export async function answersFor(
  questions: readonly Question[], asOf: string, read: (dataset: string) => Promise<EvaluationRecord[]>,
): Promise<Map<string, { answer: Answer; dataAsOf: string | undefined; question: Question }>> {
  const records: Record<string, EvaluationRecord[]> = {};
  for (const question of questions) for (const dataset of question.datasets) records[dataset] ??= await read(dataset);
  const answers = new Map<string, { answer: Answer; dataAsOf: string | undefined; question: Question }>();
  for (const question of questions) {
    const evaluation = evaluate(question, { asOf, records });
    answers.set(question.id, { answer: evaluation.answer, dataAsOf: evaluation.dataAsOf, question });
  }
  return answers;
}

export function encodeAnswer(answer: Answer): string {
  return JSON.stringify(answer);
}

function decodeAnswer(text: string): Answer {
  const value = JSON.parse(text) as unknown;
  return typeof value === 'boolean' || typeof value === 'string' ? value : UNKNOWN;
}

/**
 * Subscriptions read per round: each round is one statement per dataset, one for the answers last seen and one for
 * open objections, whatever the count, so a batch touching a hundred thousand watched subjects costs a few hundred
 * statements, not three per subject, with the sealed records of one round in memory at a time.
 */
const SUBSCRIPTIONS_PER_ROUND = 1000;

interface Watching {
  readonly subscription: WatchedSubject;
  readonly rules: readonly MonitorRule[];
  /** The subscription's monitored questions that read the batch's dataset. */
  readonly questions: readonly Question[];
}

export function createChangeDetector(deps: ChangeDetectorDependencies): (transaction: BatchTransaction, dataset: string) => Promise<void> {
  const watching = (subscription: WatchedSubject, dataset: string): Watching => {
    const rules = subscription.rules.map((id) => deps.rules.get(id));
    const questions = [...new Set(rules.map((rule) => rule.question))]
      .map((id) => deps.questions.get(id))
      .filter((question) => (question.datasets as readonly string[]).includes(dataset));
    return { subscription, rules, questions };
  };

  return async (transaction, dataset) => {
    const now = deps.now();
    const watched = await transaction.watchedSubjects(Math.floor(now.getTime() / 1000));
    if (watched.length === 0) return;
    const asOf = todayInShanghai(now);
    const raisedAt = now.toISOString();
    const events: NewOutboxEvent[] = [];
    const changed: MonitorAnswer[] = [];
    const affected = watched.map((subscription) => watching(subscription, dataset)).filter((one) => one.questions.length > 0);
    for (let start = 0; start < affected.length; start += SUBSCRIPTIONS_PER_ROUND) {
      const round = affected.slice(start, start + SUBSCRIPTIONS_PER_ROUND);
      const records = await currentRecordsOf(transaction, deps.keyring, round);
      const seen = new Map<string, Map<string, Answer>>();
      for (const row of await transaction.monitorAnswers(round.map((one) => one.subscription.subscriptionId))) {
        seen.set(row.subscriptionId, (seen.get(row.subscriptionId) ?? new Map<string, Answer>()).set(row.questionId, decodeAnswer(row.answer)));
      }
      // Read in this transaction: a correcting batch has already closed its objection, so its own alerts are not disputed.
      const disputes = await transaction.disputedDatasetsOf([...new Set(round.map((one) => one.subscription.uscc))]);
      for (const { subscription, rules, questions } of round) {
        const subject = Buffer.from(subscription.subjectIndex).toString('hex');
        const read = async (from: string): Promise<EvaluationRecord[]> => records.get(from)?.get(subject) ?? [];
        const seenBefore = seen.get(subscription.subscriptionId);
        const disputed = new Set(disputes.get(subscription.uscc) ?? []);
        for (const [questionId, now] of await answersFor(questions, asOf, read)) {
          const before = seenBefore?.get(questionId);
          if (before === now.answer) continue;
          changed.push({ subscriptionId: subscription.subscriptionId, questionId, answer: encodeAnswer(now.answer) });
          // No baseline (a rule's question added later): this answer becomes the baseline, nothing to compare with.
          if (before === undefined) continue;
          const bands = now.question.answer.type === 'band' ? now.question.answer.values : [];
          for (const rule of rules) {
            if (rule.question !== questionId || !ruleFires(rule, before, now.answer, bands)) continue;
            const eventId = randomUUID();
            const claims: AlertClaims = {
              type: 'alert', event_id: eventId, subscription_id: subscription.subscriptionId, consent_id: subscription.consentId,
              subject: { uscc: subscription.uscc }, rule: rule.id, severity: rule.severity, question: questionClaim(now.question.ref),
              old_answer: before, new_answer: now.answer, ...(now.dataAsOf ? { data_as_of: now.dataAsOf } : {}),
              ...(now.question.datasets.some((read) => disputed.has(read)) ? { disputed: true as const } : {}), raised_at: raisedAt,
            };
            events.push({
              eventId, bankId: subscription.bankId, type: 'alert', subscriptionId: subscription.subscriptionId,
              content: JSON.stringify(claims), createdAt: raisedAt,
            });
          }
        }
      }
    }
    await transaction.setMonitorAnswers(changed);
    await transaction.addEvents(events);
    if (events.length > 0 && deps.onEvents) setImmediate(deps.onEvents);
  };
}

/** The opened current records of a round's subjects, by dataset and then by subject index (hex). */
async function currentRecordsOf(
  transaction: BatchTransaction, keyring: DataKeyring, round: readonly Watching[],
): Promise<Map<string, Map<string, EvaluationRecord[]>>> {
  const datasets = new Set(round.flatMap((one) => one.questions.flatMap((question) => question.datasets)));
  const subjects = [...new Map(round.map((one) => [Buffer.from(one.subscription.subjectIndex).toString('hex'), one.subscription.subjectIndex])).values()];
  const byDataset = new Map<string, Map<string, EvaluationRecord[]>>();
  for (const from of datasets) {
    const bySubject = new Map<string, EvaluationRecord[]>();
    for (const record of await transaction.currentRecords(from, subjects)) {
      const subject = Buffer.from(record.subjectIndex).toString('hex');
      const opened = { values: await openValues(keyring, from, record.recordId, record.sealed), asOf: record.asOf };
      const ofSubject = bySubject.get(subject);
      if (ofSubject) ofSubject.push(opened);
      else bySubject.set(subject, [opened]);
    }
    byDataset.set(from, bySubject);
  }
  return byDataset;
}
