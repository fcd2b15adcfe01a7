/**
 * Objections (异议, docs/objections.md): an enterprise disputes what the gateway's records say about it — all its
 * records in a dataset, or the records behind an answer it saw among its accesses — and the source that fed the
 * dataset resolves it within a deadline. The state machine:
 *
 *   open ──source confirms (no change)──► confirmed
 *   open ──source ingests a correcting batch that references it──► corrected ──► banks notified
 *   open ──the deadline passes──► (still open) flagged overdue
 *
 * While open, every answer, report and alert that reads the disputed datasets about the enterprise says
 * `disputed: true` (signed). A correction commits in its batch's transaction; then its audit entry is appended and
 * every bank that was given an answer the correction changed — since the disputed records came in — is sent an
 * `answer.corrected` event through the monitoring outbox (Standard Webhooks, or the pull feed), naming the audit entry
 * that records the corrected answers. Every state change is an audit entry; what is left undone by a crash between a
 * commit and its entry is finished by `recover()` at the next start.
 */
import type { BlindIndexKey } from '../crypto/index.js';
import { createHash, randomUUID } from 'node:crypto';
import type { AuditLog, JsonValue } from '../audit/index.js';
import { createBlindIndexer } from '../crypto/index.js';
import { isDatasetId } from '../datasets/registry.js';
import { GatewayError } from '../errors/index.js';
import type { Principal } from '../identity/index.js';
import { todayInShanghai } from '../ingest/index.js';
import type { Answer, QuestionCatalog } from '../policies/index.js';
import type { RecordReader } from '../records/index.js';
import type {
  BatchTransaction, NewOutboxEvent, ObjectionEvent, ObjectionRecord, ObjectionState, ObjectionTransaction, Store,
} from '../store/index.js';
import { answerQuestions } from '../verification/answers.js';
import type { AnswerCorrectedClaims, CorrectedAnswer } from '../monitoring/events.js';
import { cursorOf, seqOf } from '../store/cursor.js';

export type ObjectionTarget =
  | { readonly dataset: string }
  | { readonly audit_index: number; readonly question: string };

export interface EvidenceDocument {
  readonly name: string;
  readonly media_type: string;
  /** base64 */
  readonly content: string;
}

export interface ObjectionRequest {
  readonly target: ObjectionTarget;
  readonly reason: string;
  readonly evidence?: readonly EvidenceDocument[];
}

export interface ResolutionRequest {
  readonly outcome: 'confirmed';
  readonly note: string;
}

export interface EvidenceView {
  readonly name: string;
  readonly media_type: string;
  readonly sha256: string;
  readonly size: number;
  /** base64; only when one objection is read, not in lists. */
  readonly content?: string;
}

export interface ObjectionView {
  readonly objection_id: string;
  readonly state: ObjectionState;
  /** Open past its deadline. */
  readonly overdue: boolean;
  readonly uscc: string;
  readonly enterprise: string;
  readonly datasets: readonly string[];
  readonly target: ObjectionTarget;
  readonly reason: string;
  readonly evidence: readonly EvidenceView[];
  readonly raised_at: string;
  readonly due_at: string;
  readonly resolved_at: string | null;
  readonly resolved_by: string | null;
  readonly resolution: Readonly<Record<string, unknown>> | null;
  readonly audit_index: number;
  readonly history: readonly { type: string; at: string; actor: string; audit_index: number | null }[];
}

export interface ObjectionPage {
  readonly objections: ObjectionView[];
  readonly nextCursor: string | null;
}

/** What a correcting batch is, as ingestion tells it. */
export interface Correction {
  readonly objectionId: string;
  readonly dataset: string;
  readonly source: string;
  readonly batchId: string;
  readonly at: string;
}

export interface ObjectionService {
  raise(principal: Principal, request: ObjectionRequest): Promise<ObjectionView>;
  /** Enterprises: their own; sources: those about a dataset they feed. */
  list(principal: Principal, state: ObjectionState | undefined, cursor: string | undefined, limit: number): Promise<ObjectionPage>;
  /** The operator's view (`gateway objections list`). */
  listAll(filter: { state?: ObjectionState | undefined; overdue?: boolean }, limit: number): Promise<ObjectionView[]>;
  /** One objection with its evidence; the same not_found whether it does not exist or is not the principal's to see. */
  get(principal: Principal, objectionId: string): Promise<ObjectionView>;
  confirm(principal: Principal, objectionId: string, request: ResolutionRequest): Promise<ObjectionView>;
  /** Before a correcting batch is read: the objection is open, about this dataset, and the source may resolve it. */
  checkCorrection(principal: Principal, objectionId: string, dataset: string): Promise<void>;
  /** Inside the correcting batch's transaction: closes the objection with the batch (a throw aborts the batch). */
  correctInBatch(transaction: BatchTransaction, correction: Correction): Promise<void>;
  /** After the correcting batch committed: its audit entry, then the banks' notifications. */
  completeCorrection(principal: Principal, objectionId: string, batchId: string): Promise<ObjectionView>;
  /** Flags objections past their deadline (audited); returns how many. */
  sweepOverdue(): Promise<number>;
  /** Finishes what a crash left: audit entries of corrections, notifications not sent. */
  recover(): Promise<number>;
}

export interface ObjectionDependencies {
  readonly store: Store;
  readonly questions: QuestionCatalog;
  readonly records: RecordReader;
  readonly audit: AuditLog;
  readonly blindIndexKey: BlindIndexKey;
  readonly deadlineDays: number;
  /** Called after notifications were written, to wake the delivery worker. */
  readonly onEvents?: (() => void) | undefined;
  readonly now?: () => Date;
}

const DAY_MS = 86_400_000;
const MAX_EVIDENCE_BYTES = 2 * 1024 * 1024;
/** The kinds of audit entries that record answers given to a bank. */
const ANSWER_KINDS = ['verification.answered', 'report.generated', 'alert.raised'] as const;
const MAX_SCANNED_ENTRIES = 100_000;

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');


interface StoredEvidence extends EvidenceView {
  readonly content: string;
}

/** An answer a bank was given, as its audit entry records it. */
interface GivenToBank {
  readonly bank: string;
  readonly question: string;
  readonly answer: Answer;
  readonly auditIndex: number;
}

/** The answers an entry of ANSWER_KINDS records (an alert's is its new answer). */
function answersIn(entry: Record<string, unknown>, auditIndex: number): GivenToBank[] {
  if (entry['kind'] === 'alert.raised') {
    if (entry['type'] !== 'alert' || typeof entry['question'] !== 'string') return [];
    return [{ bank: String(entry['bank']), question: entry['question'], answer: entry['new_answer'] as Answer, auditIndex }];
  }
  const questions = entry['questions'];
  if (!Array.isArray(questions)) return [];
  return (questions as { id: string; answer: Answer }[]).map((question) => ({
    bank: String(entry['actor']), question: question.id, answer: question.answer, auditIndex,
  }));
}

export function createObjectionService(deps: ObjectionDependencies): ObjectionService {
  // On the store, so that two instances handling one objection take turns.
  const exclusive = <T>(objectionId: string, work: () => Promise<T>) => deps.store.exclusive([`objection:${objectionId}`], work);
  const now = deps.now ?? (() => new Date());
  const indexer = createBlindIndexer(deps.blindIndexKey);
  const notFound = () => new GatewayError('not_found', 'no such objection');

  async function view(objection: ObjectionRecord, withContent: boolean): Promise<ObjectionView> {
    const evidence = (JSON.parse(objection.evidence) as StoredEvidence[]).map(({ content, ...metadata }) => (withContent ? { ...metadata, content } : metadata));
    return {
      objection_id: objection.objectionId,
      state: objection.state,
      overdue: objection.state === 'open' && objection.dueAt <= now().toISOString(),
      uscc: objection.uscc,
      enterprise: objection.enterpriseId,
      datasets: objection.datasets,
      target: JSON.parse(objection.target) as ObjectionTarget,
      reason: objection.reason,
      evidence,
      raised_at: objection.raisedAt,
      due_at: objection.dueAt,
      resolved_at: objection.resolvedAt ?? null,
      resolved_by: objection.resolvedBy ?? null,
      resolution: objection.resolution === undefined ? null : JSON.parse(objection.resolution) as Record<string, unknown>,
      audit_index: objection.auditIndex,
      history: (await deps.store.objectionEvents(objection.objectionId)).map((event) => ({
        type: event.type, at: event.at, actor: event.actor, audit_index: event.auditIndex ?? null,
      })),
    };
  }

  /** Enterprises see their own objections; sources those about a dataset they feed. */
  function visible(principal: Principal, objection: ObjectionRecord | undefined): ObjectionRecord {
    if (!objection) throw notFound();
    if (principal.role === 'enterprise' && objection.uscc === principal.uscc) return objection;
    if (principal.role === 'source' && objection.datasets.some((dataset) => principal.datasets.includes(dataset))) return objection;
    throw notFound();
  }

  /** The datasets a target is about, checked against what the enterprise may object to. */
  async function datasetsOf(principal: Principal, target: ObjectionTarget): Promise<string[]> {
    if ('dataset' in target) {
      if (!isDatasetId(target.dataset)) throw new GatewayError('objection_target_invalid', `no dataset "${target.dataset.slice(0, 64)}" (docs/data-catalog.md)`);
      return [target.dataset];
    }
    const [stored] = await deps.audit.entries({ start: target.audit_index, end: target.audit_index + 1, limit: 1 });
    const entry = stored && JSON.parse(Buffer.from(stored.entry).toString('utf8')) as Record<string, unknown>;
    // The same answer whether the entry does not exist or is about someone else.
    if (!entry || entry['subject'] !== principal.uscc || !(ANSWER_KINDS as readonly string[]).includes(String(entry['kind']))) {
      throw new GatewayError('objection_target_invalid', 'no answer about this enterprise at that audit index');
    }
    if (!answersIn(entry, target.audit_index).some((given) => given.question === target.question) || !deps.questions.has(target.question)) {
      throw new GatewayError('objection_target_invalid', `the answer at audit index ${target.audit_index} is not about question "${target.question.slice(0, 64)}"`);
    }
    return [...deps.questions.get(target.question).datasets];
  }

  function readEvidence(documents: readonly EvidenceDocument[]): StoredEvidence[] {
    let total = 0;
    return documents.map((document) => {
      const bytes = Buffer.from(document.content, 'base64');
      // Attacker-controlled: only canonical base64 is kept, so the hash is of what the enterprise meant to send.
      if (bytes.toString('base64') !== document.content) throw new GatewayError('invalid_argument', `evidence "${document.name}" is not canonical base64`);
      total += bytes.length;
      if (total > MAX_EVIDENCE_BYTES) throw new GatewayError('body_too_large', `evidence may hold at most ${MAX_EVIDENCE_BYTES} bytes in all`);
      return { name: document.name, media_type: document.media_type, sha256: sha256(bytes), size: bytes.length, content: document.content };
    });
  }

  /** When the records now disputed came in: answers given since then used them. */
  async function disputedSince(uscc: string, datasets: readonly string[], raisedAt: string): Promise<string> {
    const received: string[] = [];
    for (const dataset of datasets) {
      for (const record of await deps.records.bySubject(dataset, { idType: 'uscc', idNumber: uscc })) received.push(record.receivedAt);
    }
    return received.reduce((earliest, at) => (at < earliest ? at : earliest), raisedAt);
  }

  const EVENT_KINDS = { corrected: 'objection.corrected', confirmed: 'objection.confirmed', overdue: 'objection.overdue' } as const;

  /** Appends the entries of events written before their entry (a correction), oldest first. */
  async function auditPending(events: readonly ObjectionEvent[]): Promise<void> {
    for (const event of events) {
      if (event.type !== 'corrected') throw new GatewayError('internal_error', `objection event ${event.seq} (${event.type}) has no audit entry`);
      const objection = await deps.store.getObjection(event.objectionId) as ObjectionRecord;
      const appended = await deps.audit.append({
        kind: EVENT_KINDS.corrected,
        actor: event.actor,
        subject: objection.uscc,
        details: { objection_id: objection.objectionId, ...(JSON.parse(event.details) as Record<string, JsonValue>), recorded_at: event.at },
      });
      await deps.store.markObjectionEventAudited(event.seq, appended.index);
    }
  }

  /**
   * The answers, about the subject and reading the objection's datasets, that banks were given since the disputed
   * records came in and that the records now answer otherwise: per bank, the last answer to each question.
   */
  async function changedAnswers(objection: ObjectionRecord): Promise<Map<string, CorrectedAnswer[]>> {
    const latest = new Map<string, GivenToBank>();
    for (const kind of ANSWER_KINDS) {
      const entries = await deps.audit.entries({
        start: 0, end: Number.MAX_SAFE_INTEGER, subject: objection.uscc, kind, from: objection.disputedSince, limit: MAX_SCANNED_ENTRIES,
      });
      for (const stored of entries) {
        for (const given of answersIn(JSON.parse(Buffer.from(stored.entry).toString('utf8')) as Record<string, unknown>, stored.index)) {
          if (!deps.questions.has(given.question)) continue;
          if (!deps.questions.get(given.question).datasets.some((dataset) => objection.datasets.includes(dataset))) continue;
          const key = `${given.bank}\u0000${given.question}`;
          const earlier = latest.get(key);
          if (!earlier || earlier.auditIndex < given.auditIndex) latest.set(key, given);
        }
      }
    }
    if (latest.size === 0) return new Map();
    const questions = [...new Set([...latest.values()].map((given) => given.question))].map((id) => deps.questions.get(id));
    const records = await deps.records.forQuestions(objection.uscc, questions);
    const current = new Map(answerQuestions(questions, records, todayInShanghai(now()), new Set()).map((answer) => [answer.id, answer]));
    const byBank = new Map<string, CorrectedAnswer[]>();
    for (const given of [...latest.values()].sort((a, b) => a.auditIndex - b.auditIndex)) {
      const answer = current.get(given.question);
      if (!answer || answer.answer === given.answer) continue;
      const corrections = byBank.get(given.bank) ?? [];
      corrections.push({
        question: { id: answer.id, version: answer.version, definition_hash: answer.definition_hash },
        answered_audit_index: given.auditIndex, old_answer: given.answer, new_answer: answer.answer,
        ...(answer.data_as_of ? { data_as_of: answer.data_as_of } : {}),
      });
      byBank.set(given.bank, corrections);
    }
    return byBank;
  }

  /** Tells every bank whose answers the correction changed; records whom, once. */
  async function notifyBanks(objection: ObjectionRecord): Promise<void> {
    const resolution = JSON.parse(objection.resolution ?? '{}') as { batch_id?: string };
    const batchId = String(resolution.batch_id);
    const changed = await changedAnswers(objection);
    const at = now().toISOString();
    const banks = [...changed].map(([bank, corrections]) => ({ bank, event_id: randomUUID(), corrections }));
    const appended = await deps.audit.append({
      kind: 'answer.corrected',
      actor: 'gateway',
      subject: objection.uscc,
      details: {
        objection_id: objection.objectionId, batch_id: batchId,
        banks: banks.map((notice) => ({ ...notice, corrections: notice.corrections.map((correction) => ({ ...correction })) })),
      },
    });
    const events: NewOutboxEvent[] = banks.map((notice) => {
      const claims: AnswerCorrectedClaims = {
        type: 'answer.corrected', event_id: notice.event_id, objection_id: objection.objectionId, subject: { uscc: objection.uscc },
        corrections: notice.corrections, corrected_audit_index: appended.index, batch_id: batchId, raised_at: at,
      };
      return { eventId: notice.event_id, bankId: notice.bank, type: 'answer.corrected', subscriptionId: undefined, content: JSON.stringify(claims), createdAt: at };
    });
    const details = JSON.stringify({ banks: banks.map((notice) => notice.bank), corrected_audit_index: appended.index });
    if (await deps.store.notifyCorrection(objection.objectionId, events, { at, details, auditIndex: appended.index }) && events.length > 0) deps.onEvents?.();
  }

  async function finish(objectionId: string): Promise<void> {
    await auditPending((await deps.store.unauditedObjectionEvents()).filter((event) => event.objectionId === objectionId));
    const objection = await deps.store.getObjection(objectionId);
    if (objection?.state === 'corrected' && objection.notifiedAt === undefined) await notifyBanks(objection);
  }

  return {
    async raise(principal, request) {
      if (principal.role !== 'enterprise' || !principal.uscc) throw new GatewayError('role_not_allowed', 'objections are raised by enterprises');
      const uscc = principal.uscc;
      const datasets = await datasetsOf(principal, request.target);
      const evidence = readEvidence(request.evidence ?? []);
      const raised = now();
      const raisedAt = raised.toISOString();
      const dueAt = new Date(raised.getTime() + deps.deadlineDays * DAY_MS).toISOString();
      const objectionId = randomUUID();
      const appended = await deps.audit.append({
        kind: 'objection.raised',
        actor: principal.participantId,
        subject: uscc,
        details: {
          objection_id: objectionId, datasets, target: { ...request.target }, reason_sha256: sha256(request.reason),
          evidence: evidence.map(({ content: _content, ...metadata }) => ({ ...metadata })), due_at: dueAt, request_sha256: principal.requestSha256,
        },
      });
      await deps.store.addObjection({
        objectionId, enterpriseId: principal.participantId, uscc, subjectIndex: indexer.subject({ idType: 'uscc', idNumber: uscc }), datasets,
        target: JSON.stringify(request.target), reason: request.reason, evidence: JSON.stringify(evidence), raisedAt, dueAt,
        disputedSince: await disputedSince(uscc, datasets, raisedAt), auditIndex: appended.index,
      });
      return view(await deps.store.getObjection(objectionId) as ObjectionRecord, true);
    },

    async list(principal, state, cursor, limit) {
      const scope = principal.role === 'enterprise' && principal.uscc ? { uscc: principal.uscc }
        : principal.role === 'source' ? { datasets: principal.datasets } : undefined;
      if (!scope) return { objections: [], nextCursor: null };
      const rows = await deps.store.listObjections(scope, state, seqOf(cursor), limit);
      const last = rows.at(-1);
      return { objections: await Promise.all(rows.map((row) => view(row, false))), nextCursor: rows.length === limit && last ? cursorOf(last.seq) : null };
    },

    async listAll(filter, limit) {
      const rows = await deps.store.listObjections({ all: true }, filter.state, 0, filter.overdue ? Number.MAX_SAFE_INTEGER : limit);
      const views = await Promise.all(rows.map((row) => view(row, false)));
      return (filter.overdue ? views.filter((found) => found.overdue) : views).slice(0, limit);
    },

    get: async (principal, objectionId) => view(visible(principal, await deps.store.getObjection(objectionId)), true),

    async confirm(principal, objectionId, request) {
      return exclusive(objectionId, async () => {
        const objection = visible(principal, await deps.store.getObjection(objectionId));
        if (principal.role !== 'source') throw notFound();
        if (objection.state !== 'open') throw new GatewayError('objection_not_open', `the objection is ${objection.state}`);
        const at = now().toISOString();
        const appended = await deps.audit.append({
          kind: EVENT_KINDS.confirmed,
          actor: principal.participantId,
          subject: objection.uscc,
          details: { objection_id: objectionId, note_sha256: sha256(request.note), request_sha256: principal.requestSha256 },
        });
        const resolved = await deps.store.resolveObjection(objectionId, {
          state: 'confirmed', by: principal.participantId, at, resolution: JSON.stringify({ note: request.note }), auditIndex: appended.index,
        });
        if (!resolved) throw new GatewayError('objection_not_open', 'the objection was resolved while it was being confirmed');
        return view(await deps.store.getObjection(objectionId) as ObjectionRecord, true);
      });
    },

    async checkCorrection(principal, objectionId, dataset) {
      const objection = await deps.store.getObjection(objectionId);
      if (!objection || principal.role !== 'source' || !objection.datasets.some((found) => principal.datasets.includes(found))) throw notFound();
      if (objection.state !== 'open') throw new GatewayError('objection_not_open', `the objection is ${objection.state}`);
      if (!objection.datasets.includes(dataset)) {
        throw new GatewayError('objection_not_permitted', `the objection is about ${objection.datasets.join(', ')}, not ${dataset}`);
      }
    },

    async correctInBatch(transaction: ObjectionTransaction, correction) {
      const objection = await transaction.getObjection(correction.objectionId);
      if (!objection || !objection.datasets.includes(correction.dataset)) throw notFound();
      if (objection.state !== 'open') throw new GatewayError('objection_not_open', `the objection is ${objection.state}`);
      if (!await transaction.batchHasSubject(objection.subjectIndex)) {
        throw new GatewayError('correction_not_about_subject', 'the batch holds no record about the enterprise that objected; nothing was stored');
      }
      const resolved = await transaction.resolveObjection(correction.objectionId, {
        state: 'corrected', by: correction.source, at: correction.at, auditIndex: undefined,
        resolution: JSON.stringify({ batch_id: correction.batchId, dataset: correction.dataset }),
      });
      if (!resolved) throw new GatewayError('objection_not_open', 'the objection was resolved while the batch was written');
    },

    async completeCorrection(principal, objectionId, batchId) {
      return exclusive(objectionId, async () => {
        await finish(objectionId);
        const objection = visible(principal, await deps.store.getObjection(objectionId));
        const resolution = JSON.parse(objection.resolution ?? '{}') as { batch_id?: string };
        if (objection.state !== 'corrected' || resolution.batch_id !== batchId) {
          throw new GatewayError('objection_not_open', 'the batch was already stored earlier, so it corrected nothing; the objection is unchanged');
        }
        return view(await deps.store.getObjection(objectionId) as ObjectionRecord, true);
      });
    },

    async sweepOverdue() {
      let flagged = 0;
      for (const objection of await deps.store.overdueUnflagged(now().toISOString(), 100)) {
        await exclusive(objection.objectionId, async () => {
          const current = await deps.store.getObjection(objection.objectionId);
          if (current?.state !== 'open' || current.overdueAt !== undefined) return;
          const appended = await deps.audit.append({
            kind: EVENT_KINDS.overdue, actor: 'gateway', subject: objection.uscc, details: { objection_id: objection.objectionId, due_at: objection.dueAt },
          });
          if (await deps.store.flagOverdue(objection.objectionId, now().toISOString(), appended.index)) flagged++;
        });
      }
      return flagged;
    },

    async recover() {
      const pending = new Set([
        ...(await deps.store.unauditedObjectionEvents()).map((event) => event.objectionId),
        ...(await deps.store.correctedUnnotified()).map((objection) => objection.objectionId),
      ]);
      for (const objectionId of pending) await exclusive(objectionId, () => finish(objectionId));
      return pending.size;
    },
  };
}

