// Pins the scorecard service (gateway/scoring/scorecards.ts) on a temporary runtime's store, catalog and audit log:
// an auto_approve rule of the review rules approves a named bank's sound scorecard (and only that bank's); approval
// reviews again, so of two pending scorecards differing only in cut points the second cannot be approved once the
// first is; a rejected scorecard cannot be approved; each decision is audited with who made it.
import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Principal } from '../../gateway/identity/index.js';
import { createScorecardService } from '../../gateway/scoring/index.js';
import type { ReviewRules, ScorecardDocument, ScorecardService } from '../../gateway/scoring/index.js';
import { openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';
import { rejection } from '../support/problems.js';

function bank(participantId: string): Principal {
  const jti = randomUUID();
  return { participantId, role: 'bank', name: participantId, uscc: undefined, datasets: [], certificateSha256: 'unit', jti, requestSha256: createHash('sha256').update(jti).digest('hex') };
}

function document(id: string, version: number, topCut = 600): ScorecardDocument {
  return {
    id, version, title: 'unit', purposes: ['loan_approval'], intercept: 500,
    features: [
      { question: 'medical_arrears_now', question_version: 1, reason_code: 'ARREARS', bins: [{ answers: [false], points: 60 }, { answers: [true, 'unknown'], points: 0 }] },
      { question: 'medical_arrears_24m', question_version: 1, reason_code: 'ARREARS_24M', bins: [{ answers: [false], points: 50 }, { answers: [true, 'unknown'], points: 0 }] },
    ],
    grades: [{ grade: 'A', min_points: topCut }, { grade: 'B', min_points: 540 }, { grade: 'C' }],
  };
}

describe('createScorecardService', function () {
  let t: TestRuntime;
  let service: ScorecardService;

  const withRules = (rules: Partial<ReviewRules>) => createScorecardService({
    store: t.runtime.store, questions: t.runtime.questions, rules: { ...t.runtime.reviewRules, ...rules }, audit: t.runtime.audit.log,
  });

  async function entry(index: number): Promise<Record<string, unknown>> {
    const [stored] = await t.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
    return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
  }

  beforeEach(async function () {
    t = await openTestRuntime();
    service = withRules({ auto_approve: [{ banks: ['bank-trusted'], release_score: true }] });
  });

  afterEach(async function () {
    await t.dispose();
  });

  it('approves a sound scorecard of a bank an auto_approve rule names, releasing the score as the rule says; others stay pending', async function () {
    const trusted = await service.submit(bank('bank-trusted'), document('model_a', 1));
    expect(trusted).to.include({ state: 'approved', decided_by: 'review_rules', release_score: true });
    expect(await entry(trusted.audit_index)).to.include({ kind: 'scorecard.approved', actor: 'gateway', by: 'review_rules', release_score: true });
    // Another intercept: model_a's skeleton with other cut points would be refused as cut_points_only, whoever submits it.
    expect(await service.submit(bank('bank-other'), { ...document('model_b', 1), intercept: 490 })).to.include({ state: 'pending', decided_by: null });
    expect((await rejection(service.submit(bank('bank-other'), document('model_e', 1, 620)))).code).to.equal('scorecard_refused');
  });

  it('reviews again at approval: of two pending scorecards differing only in cut points, only the first is approved', async function () {
    await service.submit(bank('bank-other'), document('model_c', 1));
    await service.submit(bank('bank-other'), document('model_c', 2, 610));
    expect(await service.decide('model_c', 1, { approve: true, releaseScore: false })).to.include({ state: 'approved', decided_by: 'operator' });
    const refused = await rejection(service.decide('model_c', 2, { approve: true, releaseScore: false }));
    expect(refused.code).to.equal('scorecard_refused');
    expect((refused.details?.['findings'] as Array<{ code: string }>).map((finding) => finding.code)).to.deep.equal(['cut_points_only']);
    expect(await t.runtime.store.getScorecard('model_c', 2)).to.include({ state: 'pending' });
  });

  it('rejects a pending scorecard for good, audited as the operator\'s', async function () {
    await service.submit(bank('bank-other'), document('model_d', 1));
    const rejected = await service.decide('model_d', 1, { approve: false, releaseScore: false });
    expect(rejected).to.include({ state: 'rejected', release_score: false });
    expect(await entry(rejected.audit_index)).to.include({ kind: 'scorecard.rejected', actor: 'operator', by: 'operator' });
    expect((await rejection(service.decide('model_d', 1, { approve: true, releaseScore: false }))).code).to.equal('scorecard_not_pending');
    expect((await rejection(service.decide('model_none', 1, { approve: true, releaseScore: false }))).code).to.equal('not_found');
  });
});
