/**
 * Scorecards and their back-tests on SQLite (migration 0012). better-sqlite3 is synchronous; the methods return
 * Promises because the contract (gateway/store/scorecardStore.ts) lets other engines do their I/O asynchronously.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { GatewayError } from '../../errors/index.js';
import type { NewScorecard, ScorecardStore } from '../scorecardStore.js';
import { toBacktest, toScorecard } from '../rows/scorecards.js';
import type { BacktestRow, ScorecardRow } from '../rows/scorecards.js';

export function scorecardStore(db: SqliteDatabase): ScorecardStore {
  const statements = {
    insert: db.prepare(`INSERT INTO scorecards (scorecard_id, version, bank_id, document, sha256, skeleton_sha256, question_hashes, state,
      submitted_at, submit_audit_index) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`),
    get: db.prepare('SELECT * FROM scorecards WHERE scorecard_id = ? AND version = ?'),
    decide: db.prepare(`UPDATE scorecards SET state = ?, release_score = ?, decided_by = ?, decided_at = ?, decision_audit_index = ?
      WHERE scorecard_id = ? AND version = ? AND state = 'pending'`),
    ofBank: db.prepare('SELECT * FROM scorecards WHERE bank_id = ? ORDER BY scorecard_id, version'),
    all: db.prepare('SELECT * FROM scorecards ORDER BY scorecard_id, version'),
    bySkeleton: db.prepare(`SELECT * FROM scorecards WHERE skeleton_sha256 = ? AND state = 'approved' ORDER BY scorecard_id, version`),
    insertBacktest: db.prepare(`INSERT INTO scorecard_backtests (scorecard_id, version, bank_id, purpose, cohort, at, audit_index)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    backtests: db.prepare('SELECT * FROM scorecard_backtests WHERE scorecard_id = ? AND version = ? ORDER BY seq'),
  };
  return {
    async addScorecard(scorecard: NewScorecard) {
      try {
        statements.insert.run(scorecard.scorecardId, scorecard.version, scorecard.bankId, scorecard.document, scorecard.sha256, scorecard.skeletonSha256,
          JSON.stringify(scorecard.questionHashes), scorecard.submittedAt, scorecard.submitAuditIndex);
      } catch (error) {
        if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new GatewayError('scorecard_exists', `scorecard ${scorecard.scorecardId} v${scorecard.version} already exists`);
        }
        throw error;
      }
    },
    async getScorecard(scorecardId, version) {
      const row = statements.get.get(scorecardId, version) as ScorecardRow | undefined;
      return row && toScorecard(row);
    },
    async decideScorecard(scorecardId, version, decision) {
      return statements.decide.run(decision.state, decision.releaseScore ? 1 : 0, decision.by, decision.at, decision.auditIndex, scorecardId, version).changes === 1;
    },
    async listScorecards(scope) {
      const rows = (scope === 'all' ? statements.all.all() : statements.ofBank.all(scope.bankId)) as ScorecardRow[];
      return rows.map(toScorecard);
    },
    async approvedWithSkeleton(skeletonSha256) {
      return (statements.bySkeleton.all(skeletonSha256) as ScorecardRow[]).map(toScorecard);
    },
    async addBacktest(backtest) {
      statements.insertBacktest.run(backtest.scorecardId, backtest.version, backtest.bankId, backtest.purpose, JSON.stringify(backtest.cohort), backtest.at,
        backtest.auditIndex);
    },
    async backtestsOf(scorecardId, version) {
      return (statements.backtests.all(scorecardId, version) as BacktestRow[]).map(toBacktest);
    },
  };
}
