/** Scorecards, back-tests and enrolment codes on PostgreSQL (sqliteScorecardStore.ts and sqliteEnrolmentStore.ts, statement for statement). */
import { GatewayError } from '../../errors/index.js';
import type { EnrolmentStore } from '../enrolmentStore.js';
import type { NewScorecard, ScorecardStore } from '../scorecardStore.js';
import { isUniqueViolation, type Database } from './pgDatabase.js';
import { toBacktest, toScorecard } from '../rows/scorecards.js';
import type { BacktestRow, ScorecardRow } from '../rows/scorecards.js';
import { toEnrolmentCode } from '../rows/enrolment.js';
import type { CodeRow } from '../rows/enrolment.js';

export function scorecardStore(db: Database): ScorecardStore {
  return {
    async addScorecard(scorecard: NewScorecard) {
      try {
        await db.query(`INSERT INTO scorecards (scorecard_id, version, bank_id, document, sha256, skeleton_sha256, question_hashes, state,
          submitted_at, submit_audit_index) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)`, [
          scorecard.scorecardId, scorecard.version, scorecard.bankId, scorecard.document, scorecard.sha256, scorecard.skeletonSha256,
          JSON.stringify(scorecard.questionHashes), scorecard.submittedAt, scorecard.submitAuditIndex,
        ]);
      } catch (error) {
        if (isUniqueViolation(error)) throw new GatewayError('scorecard_exists', `scorecard ${scorecard.scorecardId} v${scorecard.version} already exists`);
        throw error;
      }
    },
    async getScorecard(scorecardId, version) {
      const { rows } = await db.query<ScorecardRow>('SELECT * FROM scorecards WHERE scorecard_id = $1 AND version = $2', [scorecardId, version]);
      return rows[0] && toScorecard(rows[0]);
    },
    async decideScorecard(scorecardId, version, decision) {
      const { rowCount } = await db.query(`UPDATE scorecards SET state = $1, release_score = $2, decided_by = $3, decided_at = $4, decision_audit_index = $5
        WHERE scorecard_id = $6 AND version = $7 AND state = 'pending'`,
      [decision.state, decision.releaseScore ? 1 : 0, decision.by, decision.at, decision.auditIndex, scorecardId, version]);
      return rowCount === 1;
    },
    async listScorecards(scope) {
      const { rows } = scope === 'all'
        ? await db.query<ScorecardRow>('SELECT * FROM scorecards ORDER BY scorecard_id, version')
        : await db.query<ScorecardRow>('SELECT * FROM scorecards WHERE bank_id = $1 ORDER BY scorecard_id, version', [scope.bankId]);
      return rows.map(toScorecard);
    },
    approvedWithSkeleton: async (skeletonSha256) =>
      (await db.query<ScorecardRow>(`SELECT * FROM scorecards WHERE skeleton_sha256 = $1 AND state = 'approved' ORDER BY scorecard_id, version`,
        [skeletonSha256])).rows.map(toScorecard),
    async addBacktest(backtest) {
      await db.query(`INSERT INTO scorecard_backtests (scorecard_id, version, bank_id, purpose, cohort, at, audit_index) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        backtest.scorecardId, backtest.version, backtest.bankId, backtest.purpose, JSON.stringify(backtest.cohort), backtest.at, backtest.auditIndex,
      ]);
    },
    backtestsOf: async (scorecardId, version) =>
      (await db.query<BacktestRow>('SELECT * FROM scorecard_backtests WHERE scorecard_id = $1 AND version = $2 ORDER BY seq', [scorecardId, version]))
        .rows.map(toBacktest),
  };
}

export function enrolmentStore(db: Database): EnrolmentStore {
  return {
    async addEnrolmentCode(code) {
      await db.query(`INSERT INTO enrolment_codes (code_id, code_sha256, uscc, name, issued_by, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [code.codeId, code.codeSha256, code.uscc, code.name, code.issuedBy, code.issuedAt, code.expiresAt]);
    },
    async redeemEnrolmentCode(codeSha256, at) {
      // One statement: the row is claimed and read back atomically; of two racing redemptions the second finds it used.
      const { rows } = await db.query<CodeRow>('UPDATE enrolment_codes SET used_at = $1 WHERE code_sha256 = $2 AND used_at IS NULL AND expires_at > $1 RETURNING *',
        [at, codeSha256]);
      return rows[0] && toEnrolmentCode(rows[0]);
    },
    async recordEnrolment(codeId, participantId) {
      await db.query('UPDATE enrolment_codes SET used_by = $1 WHERE code_id = $2', [participantId, codeId]);
    },
    listEnrolmentCodes: async () => (await db.query<CodeRow>('SELECT * FROM enrolment_codes ORDER BY issued_at, code_id')).rows.map(toEnrolmentCode),
  };
}
