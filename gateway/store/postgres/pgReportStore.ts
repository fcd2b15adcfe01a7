/**
 * Credit reports and objections on PostgreSQL (sqliteReportStore.ts, statement for statement). The objection part of a
 * batch transaction runs on the batch's own client inside its open transaction, so a correction commits with its
 * records or not at all.
 */
import { GatewayError } from '../../errors/index.js';
import type {
  NewObjection, ObjectionRecord, ObjectionScope, ObjectionState, ObjectionTransaction, ReportStore,
  Resolution } from '../reportStore.js';
import { bytes, isUniqueViolation, type Database, type Queryable } from './pgDatabase.js';
import { insertEvents, sequenceLock } from './pgMonitorStore.js';
import { datasetsByUscc, datasetsOf, toEvent, toObjection, toReport } from '../rows/reports.js';
import type { EventRow, ObjectionRow, ReportRow } from '../rows/reports.js';

const INSERT_EVENT = 'INSERT INTO objection_events (objection_id, type, actor, at, details, audit_index) VALUES ($1, $2, $3, $4, $5, $6)';
const OPEN_DATASETS = `SELECT datasets FROM objections WHERE uscc = $1 AND state = 'open'`;


/** The resolution and its event, on `q` (inside a transaction: the store's own, or a batch's). */
async function resolve(q: Queryable, objectionId: string, resolution: Resolution): Promise<boolean> {
  const { rowCount } = await q.query(`UPDATE objections SET state = $1, resolved_at = $2, resolved_by = $3, resolution = $4
    WHERE objection_id = $5 AND state = 'open'`, [resolution.state, resolution.at, resolution.by, resolution.resolution, objectionId]);
  if (rowCount !== 1) return false;
  await q.query(INSERT_EVENT, [objectionId, resolution.state, resolution.by, resolution.at, resolution.resolution, resolution.auditIndex ?? null]);
  return true;
}

export function reportStore(db: Database): ReportStore {
  const listAll = async (state: ObjectionState | undefined, after: number, limit: number) =>
    (await db.query<ObjectionRow>('SELECT * FROM objections WHERE ($1::text IS NULL OR state = $1) AND seq > $2 ORDER BY seq LIMIT $3',
      [state ?? null, after, limit])).rows;
  return {
    async addReport(report) {
      try {
        await db.query(`INSERT INTO reports (report_id, bank_id, uscc, consent_id, template_id, template_version, jws, jws_sha256, evidence,
          audit_index, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
          report.reportId, report.bankId, report.uscc, report.consentId, report.templateId, report.templateVersion, report.jws, report.jwsSha256,
          report.evidence, report.auditIndex, report.createdAt,
        ]);
      } catch (error) {
        if (isUniqueViolation(error)) throw new GatewayError('internal_error', 'a report with this id already exists');
        throw error;
      }
    },
    async getReport(reportId) {
      const { rows } = await db.query<ReportRow>('SELECT * FROM reports WHERE report_id = $1', [reportId]);
      return rows[0] && toReport(rows[0]);
    },
    addObjection: (objection: NewObjection) => db.transaction(async (tx) => {
      await sequenceLock(tx, 'objections');
      await tx.query(`INSERT INTO objections (objection_id, enterprise_id, uscc, subject_index, datasets, target, reason, evidence, state,
        raised_at, due_at, disputed_since, audit_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11, $12)`, [
        objection.objectionId, objection.enterpriseId, objection.uscc, bytes(objection.subjectIndex), JSON.stringify(objection.datasets), objection.target,
        objection.reason, objection.evidence, objection.raisedAt, objection.dueAt, objection.disputedSince, objection.auditIndex,
      ]);
      await tx.query(INSERT_EVENT, [objection.objectionId, 'raised', objection.enterpriseId, objection.raisedAt, objection.target, objection.auditIndex]);
    }),
    async getObjection(objectionId) {
      const { rows } = await db.query<ObjectionRow>('SELECT * FROM objections WHERE objection_id = $1', [objectionId]);
      return rows[0] && toObjection(rows[0]);
    },
    async listObjections(scope: ObjectionScope, state, afterSeq, limit) {
      if ('uscc' in scope) {
        return (await db.query<ObjectionRow>('SELECT * FROM objections WHERE uscc = $1 AND ($2::text IS NULL OR state = $2) AND seq > $3 ORDER BY seq LIMIT $4',
          [scope.uscc, state ?? null, afterSeq, limit])).rows.map(toObjection);
      }
      if ('all' in scope) return (await listAll(state, afterSeq, limit)).map(toObjection);
      // A source's queue: objections touching any of its datasets (few sources, few datasets: filtered here, as on SQLite).
      const wanted = new Set(scope.datasets);
      const found: ObjectionRecord[] = [];
      let after = afterSeq;
      while (found.length < limit) {
        const rows = await listAll(state, after, 500);
        if (rows.length === 0) break;
        for (const row of rows) {
          const objection = toObjection(row);
          if (objection.datasets.some((dataset) => wanted.has(dataset)) && found.length < limit) found.push(objection);
        }
        after = (rows.at(-1) as ObjectionRow).seq;
      }
      return found;
    },
    disputedDatasets: async (uscc) => datasetsOf((await db.query<{ datasets: string }>(OPEN_DATASETS, [uscc])).rows),
    resolveObjection: (objectionId, resolution) => db.transaction((tx) => resolve(tx, objectionId, resolution)),
    overdueUnflagged: async (nowIso, limit) =>
      (await db.query<ObjectionRow>(`SELECT * FROM objections WHERE state = 'open' AND overdue_at IS NULL AND due_at <= $1 ORDER BY seq LIMIT $2`,
        [nowIso, limit])).rows.map(toObjection),
    flagOverdue: (objectionId, at, auditIndex) => db.transaction(async (tx) => {
      const { rowCount } = await tx.query(`UPDATE objections SET overdue_at = $1 WHERE objection_id = $2 AND state = 'open' AND overdue_at IS NULL`,
        [at, objectionId]);
      if (rowCount !== 1) return false;
      await tx.query(INSERT_EVENT, [objectionId, 'overdue', 'gateway', at, '{}', auditIndex]);
      return true;
    }),
    objectionEvents: async (objectionId) =>
      (await db.query<EventRow>('SELECT * FROM objection_events WHERE objection_id = $1 ORDER BY seq', [objectionId])).rows.map(toEvent),
    unauditedObjectionEvents: async () => (await db.query<EventRow>('SELECT * FROM objection_events WHERE audit_index IS NULL ORDER BY seq')).rows.map(toEvent),
    async markObjectionEventAudited(eventSeq, auditIndex) {
      await db.query('UPDATE objection_events SET audit_index = $1 WHERE seq = $2 AND audit_index IS NULL', [auditIndex, eventSeq]);
    },
    correctedUnnotified: async () =>
      (await db.query<ObjectionRow>(`SELECT * FROM objections WHERE state = 'corrected' AND notified_at IS NULL ORDER BY seq`)).rows.map(toObjection),
    notifyCorrection: (objectionId, events, event) => db.transaction(async (tx) => {
      const { rowCount } = await tx.query(`UPDATE objections SET notified_at = $1 WHERE objection_id = $2 AND state = 'corrected' AND notified_at IS NULL`,
        [event.at, objectionId]);
      if (rowCount !== 1) return false;
      await insertEvents(tx, events);
      await tx.query(INSERT_EVENT, [objectionId, 'banks_notified', 'gateway', event.at, event.details, event.auditIndex]);
      return true;
    }),
  };
}

/** The objection view of an open batch transaction on `client`, whose records have ids firstId … lastId. */
export function objectionTransaction(client: Queryable, firstId: number, lastId: number): ObjectionTransaction {
  return {
    disputedDatasetsOf: async (usccs) => datasetsByUscc((await client.query<{ uscc: string; datasets: string }>(
      `SELECT uscc, datasets FROM objections WHERE uscc = ANY($1::text[]) AND state = 'open'`, [usccs])).rows),
    async getObjection(objectionId) {
      const { rows } = await client.query<ObjectionRow>('SELECT * FROM objections WHERE objection_id = $1', [objectionId]);
      return rows[0] && toObjection(rows[0]);
    },
    batchHasSubject: async (subjectIndex) =>
      (await client.query('SELECT 1 FROM records WHERE record_id BETWEEN $1 AND $2 AND subject_index = $3 LIMIT 1', [firstId, lastId, bytes(subjectIndex)]))
        .rows.length === 1,
    resolveObjection: (objectionId, resolution) => resolve(client, objectionId, resolution),
  };
}
