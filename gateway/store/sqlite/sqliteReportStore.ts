/**
 * Credit reports and objections on SQLite (migration 0011). The objection part of a batch transaction runs on the
 * batch writer's own connection, inside its open transaction, so a correction commits with its records or not at all.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import { GatewayError } from '../../errors/index.js';
import type {
  NewObjection, ObjectionRecord, ObjectionScope, ObjectionTransaction, ReportStore,
  Resolution } from '../reportStore.js';
import { insertEvents } from './sqliteMonitorStore.js';
import type { Synchronous } from './serial.js';
import { datasetsByUscc, datasetsOf, toEvent, toObjection, toReport } from '../rows/reports.js';
import type { EventRow, ObjectionRow, ReportRow } from '../rows/reports.js';

const INSERT_EVENT = 'INSERT INTO objection_events (objection_id, type, actor, at, details, audit_index) VALUES (?, ?, ?, ?, ?, ?)';
const RESOLVE = `UPDATE objections SET state = ?, resolved_at = ?, resolved_by = ?, resolution = ? WHERE objection_id = ? AND state = 'open'`;
const OPEN_DATASETS = `SELECT datasets FROM objections WHERE uscc = ? AND state = 'open'`;


/** The resolution and its event, on `db` (the shared connection or a batch writer inside its transaction). */
function resolve(statements: { resolve: Statement; insertEvent: Statement }, objectionId: string, resolution: Resolution): boolean {
  if (statements.resolve.run(resolution.state, resolution.at, resolution.by, resolution.resolution, objectionId).changes !== 1) return false;
  statements.insertEvent.run(objectionId, resolution.state, resolution.by, resolution.at, resolution.resolution, resolution.auditIndex ?? null);
  return true;
}

export function reportStore(db: SqliteDatabase): Synchronous<ReportStore> {
  const statements = {
    insertReport: db.prepare(`INSERT INTO reports (report_id, bank_id, uscc, consent_id, template_id, template_version, jws, jws_sha256, evidence,
      audit_index, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    report: db.prepare('SELECT * FROM reports WHERE report_id = ?'),
    insertObjection: db.prepare(`INSERT INTO objections (objection_id, enterprise_id, uscc, subject_index, datasets, target, reason, evidence, state,
      raised_at, due_at, disputed_since, audit_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`),
    insertEvent: db.prepare(INSERT_EVENT),
    objection: db.prepare('SELECT * FROM objections WHERE objection_id = ?'),
    bySubject: db.prepare('SELECT * FROM objections WHERE uscc = @uscc AND (@state IS NULL OR state = @state) AND seq > @after ORDER BY seq LIMIT @limit'),
    all: db.prepare('SELECT * FROM objections WHERE (@state IS NULL OR state = @state) AND seq > @after ORDER BY seq LIMIT @limit'),
    openDatasets: db.prepare(OPEN_DATASETS),
    resolve: db.prepare(RESOLVE),
    overdue: db.prepare(`SELECT * FROM objections WHERE state = 'open' AND overdue_at IS NULL AND due_at <= ? ORDER BY seq LIMIT ?`),
    flagOverdue: db.prepare(`UPDATE objections SET overdue_at = ? WHERE objection_id = ? AND state = 'open' AND overdue_at IS NULL`),
    events: db.prepare('SELECT * FROM objection_events WHERE objection_id = ? ORDER BY seq'),
    unaudited: db.prepare('SELECT * FROM objection_events WHERE audit_index IS NULL ORDER BY seq'),
    markAudited: db.prepare('UPDATE objection_events SET audit_index = ? WHERE seq = ? AND audit_index IS NULL'),
    unnotified: db.prepare(`SELECT * FROM objections WHERE state = 'corrected' AND notified_at IS NULL ORDER BY seq`),
    markNotified: db.prepare(`UPDATE objections SET notified_at = ? WHERE objection_id = ? AND state = 'corrected' AND notified_at IS NULL`),
  };
  return {
    addReport(report) {
      try {
        statements.insertReport.run(
          report.reportId, report.bankId, report.uscc, report.consentId, report.templateId, report.templateVersion, report.jws, report.jwsSha256,
          report.evidence, report.auditIndex, report.createdAt,
        );
      } catch (error) {
        if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new GatewayError('internal_error', 'a report with this id already exists');
        }
        throw error;
      }
    },
    getReport(reportId) {
      const row = statements.report.get(reportId) as ReportRow | undefined;
      return row && toReport(row);
    },
    addObjection: (objection: NewObjection) => db.transaction(() => {
      statements.insertObjection.run(
        objection.objectionId, objection.enterpriseId, objection.uscc, objection.subjectIndex, JSON.stringify(objection.datasets), objection.target,
        objection.reason, objection.evidence, objection.raisedAt, objection.dueAt, objection.disputedSince, objection.auditIndex,
      );
      statements.insertEvent.run(objection.objectionId, 'raised', objection.enterpriseId, objection.raisedAt, objection.target, objection.auditIndex);
    }).immediate(),
    getObjection(objectionId) {
      const row = statements.objection.get(objectionId) as ObjectionRow | undefined;
      return row && toObjection(row);
    },
    listObjections(scope: ObjectionScope, state, afterSeq, limit) {
      const parameters = { state: state ?? null, after: afterSeq, limit };
      if ('uscc' in scope) return (statements.bySubject.all({ ...parameters, uscc: scope.uscc }) as ObjectionRow[]).map(toObjection);
      if ('all' in scope) return (statements.all.all(parameters) as ObjectionRow[]).map(toObjection);
      // A source's queue: objections touching any of its datasets (few sources, few datasets: filtered here).
      const wanted = new Set(scope.datasets);
      const found: ObjectionRecord[] = [];
      let after = afterSeq;
      while (found.length < limit) {
        const rows = statements.all.all({ ...parameters, after, limit: 500 }) as ObjectionRow[];
        if (rows.length === 0) break;
        for (const row of rows) {
          const objection = toObjection(row);
          if (objection.datasets.some((dataset) => wanted.has(dataset)) && found.length < limit) found.push(objection);
        }
        after = (rows.at(-1) as ObjectionRow).seq;
      }
      return found;
    },
    disputedDatasets: (uscc) => datasetsOf(statements.openDatasets.all(uscc) as { datasets: string }[]),
    resolveObjection: (objectionId, resolution) => db.transaction(() => resolve(statements, objectionId, resolution)).immediate(),
    overdueUnflagged: (nowIso, limit) => (statements.overdue.all(nowIso, limit) as ObjectionRow[]).map(toObjection),
    flagOverdue: (objectionId, at, auditIndex) => db.transaction(() => {
      if (statements.flagOverdue.run(at, objectionId).changes !== 1) return false;
      statements.insertEvent.run(objectionId, 'overdue', 'gateway', at, '{}', auditIndex);
      return true;
    }).immediate(),
    objectionEvents: (objectionId) => (statements.events.all(objectionId) as EventRow[]).map(toEvent),
    unauditedObjectionEvents: () => (statements.unaudited.all() as EventRow[]).map(toEvent),
    markObjectionEventAudited(eventSeq, auditIndex) {
      statements.markAudited.run(auditIndex, eventSeq);
    },
    correctedUnnotified: () => (statements.unnotified.all() as ObjectionRow[]).map(toObjection),
    notifyCorrection: (objectionId, events, event) => db.transaction(() => {
      if (statements.markNotified.run(event.at, objectionId).changes !== 1) return false;
      insertEvents(db, events);
      statements.insertEvent.run(objectionId, 'banks_notified', 'gateway', event.at, event.details, event.auditIndex);
      return true;
    }).immediate(),
  };
}

/** The objection view of an open batch transaction on `writer`, whose records have ids firstId … lastId. */
export function objectionTransaction(writer: SqliteDatabase, firstId: number, lastId: number): Synchronous<ObjectionTransaction> {
  // Prepared on first use, on the writer's connection: the shared one would wait for this very transaction's lock.
  let prepared: Record<'openDatasetsOf' | 'objection' | 'hasSubject' | 'resolve' | 'insertEvent', Statement> | undefined;
  const statements = () => prepared ??= {
    openDatasetsOf: writer.prepare(`SELECT uscc, datasets FROM objections WHERE uscc IN (SELECT value FROM json_each(?)) AND state = 'open'`),
    objection: writer.prepare('SELECT * FROM objections WHERE objection_id = ?'),
    hasSubject: writer.prepare('SELECT EXISTS (SELECT 1 FROM records WHERE record_id BETWEEN ? AND ? AND subject_index = ?) AS found'),
    resolve: writer.prepare(RESOLVE),
    insertEvent: writer.prepare(INSERT_EVENT),
  };
  return {
    disputedDatasetsOf: (usccs) => datasetsByUscc(statements().openDatasetsOf.all(JSON.stringify(usccs)) as { uscc: string; datasets: string }[]),
    getObjection(objectionId) {
      const row = statements().objection.get(objectionId) as ObjectionRow | undefined;
      return row && toObjection(row);
    },
    batchHasSubject: (subjectIndex) => (statements().hasSubject.get(firstId, lastId, subjectIndex) as { found: number }).found === 1,
    resolveObjection: (objectionId, resolution) => resolve(statements(), objectionId, resolution),
  };
}
