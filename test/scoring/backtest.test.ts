// Pins the back-test service (gateway/scoring/backtest.ts) on a temporary runtime, with consents put straight into
// the store so that every kind of consent that must not count can be made: the cohort is exactly the active consents
// to this bank naming the scorecard for the purpose (not another bank's, another purpose's, a revoked one, one naming
// only questions, one not yet valid); back-tests of a scorecard are capped per day; the audit entry lists the
// cohort's consents and the aggregates name no enterprise.
import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { GatewayError } from '../../gateway/errors/index.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';
import type { Principal } from '../../gateway/identity/index.js';
import { createBacktestService, createScorecardService, scorecardRef } from '../../gateway/scoring/index.js';
import type { BacktestService, ReviewRules, ScorecardDocument } from '../../gateway/scoring/index.js';
import type { NewConsent } from '../../gateway/store/index.js';
import { openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';

const BANK = 'bank-unit';
const DAY = 86_400;
const REF = scorecardRef('unit_model', 1);

function principal(participantId: string): Principal {
  const jti = randomUUID();
  return { participantId, role: 'bank', name: participantId, uscc: undefined, datasets: [], certificateSha256: 'unit', jti, requestSha256: createHash('sha256').update(jti).digest('hex') };
}

function usccNumber(n: number): string {
  const first17 = `91370100MC${String(n).padStart(7, '0')}`;
  return `${first17}${usccCheckCharacter(first17)}`;
}

const DOCUMENT: ScorecardDocument = {
  id: 'unit_model', version: 1, title: 'unit', purposes: ['loan_approval', 'pre_loan_investigation'], intercept: 500,
  features: [
    { question: 'medical_arrears_now', question_version: 1, reason_code: 'ARREARS', bins: [{ answers: [false], points: 60 }, { answers: [true, 'unknown'], points: 0 }] },
    { question: 'medical_arrears_24m', question_version: 1, reason_code: 'ARREARS_24M', bins: [{ answers: [false], points: 50 }, { answers: [true, 'unknown'], points: 0 }] },
  ],
  grades: [{ grade: 'A', min_points: 580 }, { grade: 'B', min_points: 520 }, { grade: 'C' }],
};

describe('createBacktestService', function () {
  let t: TestRuntime;
  let clock: number;
  let service: BacktestService;
  const counted: string[] = [];

  async function consent(n: number, overrides: Partial<NewConsent> = {}): Promise<string> {
    const uscc = usccNumber(n);
    const at = new Date(clock).toISOString();
    // A consent is usable only while an enterprise participant acts for its USCC.
    await t.runtime.store.addParticipant({
      participantId: `enterprise-${n}`, role: 'enterprise', name: 'Unit enterprise', uscc, datasets: [], status: 'active',
      certificatePem: 'unit', certificateSha256: `unit-${n}`, notAfter: new Date(clock + 30 * DAY * 1000).toISOString(), createdAt: at, statusChangedAt: at,
    });
    const consentId = randomUUID();
    await t.runtime.store.addConsent({
      consentId, enterpriseId: 'enterprise-unit', uscc, bankId: BANK, purpose: 'loan_approval', questions: [REF],
      notBefore: 0, expiresAt: Math.floor(clock / 1000) + 30 * DAY, maxUses: undefined, replaces: undefined, artefact: 'unit', artefactSha256: 'unit',
      grantedAt: at, auditIndex: 0, ...overrides,
    }, false);
    return consentId;
  }

  beforeEach(async function () {
    t = await openTestRuntime();
    clock = Date.now();
    const rules: ReviewRules = { ...t.runtime.reviewRules, backtest: { min_cohort: 3, min_per_outcome: 1, min_cohort_difference: 1, max_per_day: 2 } };
    const { runtime } = t;
    const scorecards = createScorecardService({ store: runtime.store, questions: runtime.questions, rules, audit: runtime.audit.log });
    await scorecards.submit(principal(BANK), DOCUMENT);
    await scorecards.decide('unit_model', 1, { approve: true, releaseScore: false });
    service = createBacktestService({
      consents: runtime.consents, consentStore: runtime.store, scorecards: runtime.store, disputes: runtime.store, questions: runtime.questions,
      records: runtime.records, rules, audit: runtime.audit.log, signer: runtime.signer, now: () => new Date(clock),
    });
    counted.length = 0;
    for (const n of [1, 2, 3]) counted.push(await consent(n));
    await consent(4, { bankId: 'bank-other' });
    await consent(5, { purpose: 'pre_loan_investigation' });
    await consent(6, { questions: ['medical_arrears_now'] });
    await consent(7, { notBefore: Math.floor(clock / 1000) + 3 * DAY });
    const revoked = await consent(8);
    await t.runtime.store.endConsent(revoked, 'revoked', new Date(clock).toISOString());
  });

  afterEach(async function () {
    await t.dispose();
  });

  it('covers exactly the active consents to this bank naming the scorecard for the purpose, and names no enterprise', async function () {
    const result = await service.backtest(principal(BANK), 'unit_model', 1, { purpose: 'loan_approval' });
    expect(result.aggregates).to.include({ cohort_size: 3, labelled: 0 });
    // No records at all: every answer unknown, 500 points, grade C.
    expect(result.aggregates['grade_distribution']).to.deep.equal([{ grade: 'A', count: 0 }, { grade: 'B', count: 0 }, { grade: 'C', count: 3 }]);
    for (const n of [1, 2, 3]) expect(JSON.stringify(result.aggregates)).to.not.include(usccNumber(n));
    const [stored] = await t.runtime.audit.log.entries({ start: result.auditIndex, end: result.auditIndex + 1, limit: 1 });
    const entry = JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
    expect(entry).to.include({ kind: 'scorecard.backtested', actor: BANK, cohort_size: 3 });
    expect(entry['consent_ids']).to.have.members(counted);
    expect(entry).to.not.have.property('subject');
  });

  it('refuses another bank\'s back-test of the scorecard as not_found', async function () {
    try {
      await service.backtest(principal('bank-other'), 'unit_model', 1, { purpose: 'loan_approval' });
      expect.fail('expected not_found');
    } catch (error) {
      expect((error as GatewayError).code).to.equal('not_found');
    }
  });

  it('allows max_per_day back-tests of a scorecard in 24 hours, then rate_limited with retry_after, then again a day later', async function () {
    await service.backtest(principal(BANK), 'unit_model', 1, { purpose: 'loan_approval' });
    clock += 3_600_000;
    await service.backtest(principal(BANK), 'unit_model', 1, { purpose: 'loan_approval' });
    try {
      await service.backtest(principal(BANK), 'unit_model', 1, { purpose: 'loan_approval' });
      expect.fail('expected rate_limited');
    } catch (error) {
      expect(error).to.be.instanceOf(GatewayError);
      expect((error as GatewayError).code).to.equal('rate_limited');
      expect((error as GatewayError).details?.['retry_after']).to.be.within(22 * 3600, 23 * 3600 + 1);
    }
    clock += 23 * 3_600_000 + 1000;
    expect((await service.backtest(principal(BANK), 'unit_model', 1, { purpose: 'loan_approval' })).aggregates).to.include({ cohort_size: 3 });
  });
});
