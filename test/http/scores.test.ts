// Pins scorecards end to end on a real gateway (127.0.0.1, port 0): a bank submits a scorecard (signed request);
// probing scorecards are refused with the finding that names the probe, and a raw field is no feature; a sound one
// is inert until the operator approves it with `gateway scorecards approve`; enterprises consent to it by its consent
// name; POST /v1/scores answers grades and reason codes in one JWS checked with jose alone against the published JWKS,
// with no answer and no record value in it; a resubmission that moves only cut points is refused; and the back-test
// releases only aggregates, refuses a cohort below the minimum, and refuses a cohort that differs from an earlier
// one by a single enterprise.
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { json, runCli } from '../support/cli.js';
import { expectProblem, refusal } from '../support/problems.js';

const SCORE_TYPE = 'gateway-score+jwt';
const BACKTEST_TYPE = 'gateway-backtest+jwt';
const DATASETS = ['medical_insurance_arrears', 'medical_insurance_payments'];
const COHORT = 24;
const REF = 'scorecard.sme_working_capital.v1';

/** Enterprise n: owes contributions when n is a multiple of 3; 137 insured when n is odd, else 7. */
const owes = (n: number) => n % 3 === 0;
const headcount = (n: number) => (n % 2 === 1 ? 137 : 7);
const OWED_AMOUNT = '4321.09';
const CONTRIBUTION = '9876.54';

function usccNumber(n: number): string {
  const first17 = `91370100MA${String(n).padStart(7, '0')}`;
  return `${first17}${usccCheckCharacter(first17)}`;
}

function monthsAgo(back: number): string {
  const [year, month] = todayInShanghai().split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - back;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

const ndjson = (rows: readonly object[]) => rows.map((row) => `${JSON.stringify(row)}\n`).join('');

/** A sound scorecard: three features of two to three bins, four grades 60 points apart. */
function soundScorecard(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'sme_working_capital', version: 1, title: 'SME working-capital scorecard', purposes: ['loan_approval'], intercept: 500,
    features: [
      { question: 'medical_arrears_now', question_version: 1, reason_code: 'ARREARS_NOW',
        bins: [{ answers: [false], points: 60 }, { answers: [true], points: -80 }, { answers: ['unknown'], points: 0 }] },
      { question: 'medical_headcount_band', question_version: 1, reason_code: 'HEADCOUNT',
        bins: [{ answers: ['under_10', '10_to_49'], points: 10 }, { answers: ['50_to_199', '200_or_more'], points: 40 }, { answers: ['unknown'], points: 0 }] },
      { question: 'medical_arrears_24m', question_version: 1, reason_code: 'ARREARS_24M',
        bins: [{ answers: [false], points: 30 }, { answers: [true], points: -20 }, { answers: ['unknown'], points: 0 }] },
    ],
    grades: [{ grade: 'A', min_points: 600 }, { grade: 'B', min_points: 540 }, { grade: 'C', min_points: 480 }, { grade: 'D' }],
    max_reason_codes: 2,
    ...overrides,
  };
}

const features = (document: Record<string, unknown>) => document['features'] as Array<Record<string, unknown>>;

interface ScoredItem {
  readonly subject: { readonly uscc: string };
  readonly consent_id: string;
  readonly status: 'scored' | 'refused';
  readonly grade?: string;
  readonly score?: number;
  readonly reason_codes?: readonly string[];
  readonly code?: string;
  readonly scorecard?: { id: string; version: number; sha256: string };
  readonly audit_index: number;
}

async function verifyIndependently(baseUrl: string, token: string): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
  const keySet = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  const { payload, protectedHeader } = await compactVerify(token, createLocalJWKSet(keySet), { algorithms: ['ES256'] });
  return { header: protectedHeader, claims: JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown> };
}

describe('scorecards over HTTP', function () {
  this.timeout(300_000);
  let gateway: TestGateway;
  let bank: EnrolledParticipant;
  let otherBank: EnrolledParticipant;
  let source: EnrolledParticipant;
  const enterprises: EnrolledParticipant[] = [];
  const consents = new Map<number, string>();
  let empty: EnrolledParticipant;
  let emptyConsent: string;
  let sharedKey: { privateKeyPem: string; publicKeyPem: string };
  let enrolled = 0;

  async function enrol(role: 'source' | 'enterprise' | 'bank', options: { uscc?: string; datasets?: string[] } = {}): Promise<EnrolledParticipant> {
    const record = await gateway.runtime.participants.add({
      participantId: `score-${role}-${++enrolled}`, role, name: `Test ${role}`, uscc: options.uscc, datasets: options.datasets,
      publicKeyPem: sharedKey.publicKeyPem, certificateDays: 30,
    });
    return { record, credentials: { participantId: record.participantId, privateKeyPem: sharedKey.privateKeyPem, certificatePem: record.certificatePem } };
  }

  const submit = async (as: EnrolledParticipant, document: Record<string, unknown>) =>
    (await gateway.client(as).send('POST', '/v1/scorecards', { body: JSON.stringify(document), headers: { 'content-type': 'application/json' } })).json<Record<string, unknown>>();

  async function score(as: EnrolledParticipant, items: ReadonlyArray<{ uscc: string; consentId: string; version?: number }>) {
    const response = await gateway.client(as).send('POST', '/v1/scores', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        loan_reference: 'LN-2026-0017', officer: '信贷员 李明',
        items: items.map((item) => ({ subject: { uscc: item.uscc }, consent_id: item.consentId, scorecard: { id: 'sme_working_capital', version: item.version ?? 1 } })),
      }),
    });
    return { status: response.status, body: response.json<{ answer: string; items: ScoredItem[] }>(), auditIndex: Number(response.headers['audit-index']) };
  }

  const backtest = async (as: EnrolledParticipant, body: Record<string, unknown>) => (await gateway.client(as).send('POST', '/v1/scorecards/sme_working_capital/versions/1/backtests', {
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })).json<{ answer: string; aggregates: Record<string, unknown> }>();

  async function entry(index: number): Promise<Record<string, unknown>> {
    const [stored] = await gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
    return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
  }

  const grant = async (enterprise: EnrolledParticipant, questions: string[] = [REF]) => String((await gateway.client(enterprise).grantConsent({
    uscc: enterprise.record.uscc as string, bank: bank.record.participantId, purpose: 'loan_approval', questions, days: 30,
  })).consent['consent_id']);

  before(async function () {
    sharedKey = generateRsaKeyPair();
    gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000' });
    [bank, otherBank, source] = await Promise.all([enrol('bank'), enrol('bank'), enrol('source', { datasets: DATASETS })]);
    for (let n = 1; n <= COHORT; n++) enterprises[n] = await enrol('enterprise', { uscc: usccNumber(n) });
    empty = await enrol('enterprise', { uscc: usccNumber(999) });
    const numbers = [...Array(COHORT).keys()].map((i) => i + 1);
    await gateway.client(source).ingest('medical_insurance_arrears', ndjson(numbers.filter(owes).map((n) => ({
      enterprise_name: `测试企业${n}`, uscc: usccNumber(n), arrears_period: monthsAgo(3), arrears_amount: OWED_AMOUNT,
    }))), { format: 'ndjson' });
    await gateway.client(source).ingest('medical_insurance_payments', ndjson(numbers.map((n) => ({
      enterprise_name: `测试企业${n}`, uscc: usccNumber(n), contribution_month: monthsAgo(1), insured_headcount: headcount(n), employer_contribution_amount: CONTRIBUTION,
    }))), { format: 'ndjson' });
  });

  after(async function () {
    await gateway?.stop();
  });

  describe('POST /v1/scorecards', function () {
    it('refuses a bin isolating one answer of a band, naming the feature', async function () {
      const probing = soundScorecard({ id: 'probe_isolating' });
      features(probing)[1] = { ...features(probing)[1], bins: [
        { answers: ['200_or_more'], points: 300 }, { answers: ['under_10', '10_to_49', '50_to_199'], points: 0 }, { answers: ['unknown'], points: 0 }] };
      const problem = expectProblem(await refusal(submit(bank, probing)), 422, 'scorecard_refused') as unknown as { findings: Array<{ code: string; question?: string }> };
      expect(problem.findings.map((finding) => [finding.code, finding.question])).to.deep.equal([['bin_isolates_answer', 'medical_headcount_band']]);
    });

    it('refuses a single feature, too many bins, too many or too close grades, and too many reason codes', async function () {
      const oneFeature = soundScorecard({ id: 'probe_one', features: [features(soundScorecard())[0]] });
      const manyBins = soundScorecard({ id: 'probe_bins' });
      features(manyBins)[1] = { ...features(manyBins)[1], bins: ['under_10', '10_to_49', '50_to_199', '200_or_more', 'unknown'].map((answer, i) => ({ answers: [answer], points: i * 10 })) };
      const manyGrades = soundScorecard({ id: 'probe_grades', grades: ['A', 'B', 'C', 'D', 'E'].map((grade, i) => ({ grade, min_points: 700 - i * 50 })).concat([{ grade: 'F' } as never]) });
      const closeGrades = soundScorecard({ id: 'probe_close', grades: [{ grade: 'A', min_points: 600 }, { grade: 'B', min_points: 590 }, { grade: 'C' }] });
      const reasons = soundScorecard({ id: 'probe_reasons', max_reason_codes: 9 });
      const codes = async (document: Record<string, unknown>) =>
        (expectProblem(await refusal(submit(bank, document)), 422, 'scorecard_refused') as unknown as { findings: Array<{ code: string }> }).findings.map((finding) => finding.code);
      expect(await codes(oneFeature)).to.deep.equal(['too_few_features']);
      expect(await codes(manyBins)).to.have.members(['too_many_bins', 'bin_isolates_answer']);
      expect(await codes(manyGrades)).to.deep.equal(['grades_too_fine']);
      expect(await codes(closeGrades)).to.deep.equal(['grades_too_fine']);
      expect(await codes(reasons)).to.deep.equal(['too_many_reason_codes']);
      // Two decoy features of a few points beside one that swings 300: the grade is arrears-now under another name.
      const decoys = soundScorecard({ id: 'probe_decoys' });
      features(decoys)[0] = { ...features(decoys)[0], bins: [{ answers: [false], points: 300 }, { answers: [true, 'unknown'], points: -300 }] };
      expect(await codes(decoys)).to.deep.equal(['feature_decides_grade']);
    });

    it('takes features only from the question catalog: a raw field name, an uncovered answer or a wrong version is refused', async function () {
      const rawField = soundScorecard({ id: 'probe_raw' });
      features(rawField)[0] = { question: 'arrears_amount', question_version: 1, reason_code: 'AMOUNT', bins: [{ answers: [true], points: 1 }] };
      const uncovered = soundScorecard({ id: 'probe_uncovered' });
      features(uncovered)[0] = { ...features(uncovered)[0], bins: [{ answers: [false], points: 60 }, { answers: [true], points: -80 }] };
      const codes = async (document: Record<string, unknown>) =>
        (expectProblem(await refusal(submit(bank, document)), 422, 'scorecard_refused') as unknown as { findings: Array<{ code: string }> }).findings.map((finding) => finding.code);
      expect(await codes(rawField)).to.deep.equal(['question_unknown']);
      expect(await codes(uncovered)).to.deep.equal(['bins_incomplete']);
      const stale = soundScorecard({ id: 'probe_version' });
      features(stale)[2] = { ...features(stale)[2], question_version: 2 };
      expect(await codes(stale)).to.deep.equal(['question_version_mismatch']);
      const refusedEntries = (await gateway.runtime.audit.log.entries({ start: 0, end: await gateway.runtime.audit.log.size(), limit: 10_000 }))
        .map((stored) => JSON.parse(Buffer.from(stored.entry).toString('utf8')) as Record<string, unknown>).filter((e) => e['kind'] === 'scorecard.refused');
      expect(refusedEntries.map((e) => e['scorecard'])).to.include.members(['probe_raw', 'probe_uncovered', 'probe_version', 'probe_isolating']);
      expect(await gateway.runtime.store.getScorecard('probe_raw', 1)).to.equal(undefined);
    });

    it('keeps a sound scorecard pending, and refuses another bank both reading it and reusing its id and version', async function () {
      const view = await submit(bank, soundScorecard());
      expect(view).to.include({ state: 'pending', consent_name: REF, bank: bank.record.participantId, release_score: false });
      expect(await entry(Number(view['audit_index']))).to.include({ kind: 'scorecard.submitted', scorecard: 'sme_working_capital', sha256: view['sha256'] });
      expectProblem(await refusal(gateway.client(otherBank).send('GET', '/v1/scorecards/sme_working_capital/versions/1')), 404, 'not_found');
      expectProblem(await refusal(submit(otherBank, soundScorecard())), 409, 'scorecard_exists');
    });
  });

  describe('POST /v1/scores', function () {
    before(async function () {
      for (let n = 1; n <= COHORT; n++) consents.set(n, await grant(enterprises[n] as EnrolledParticipant));
      emptyConsent = await grant(empty);
    });

    it('refuses every item while the scorecard is pending: scorecard_unavailable', async function () {
      const { body } = await score(bank, [{ uscc: usccNumber(1), consentId: consents.get(1) as string }]);
      expect(body.items.map((item) => item.code)).to.deep.equal(['scorecard_unavailable']);
      expect(await entry(body.items[0]!.audit_index)).to.include({ kind: 'score.refused', code: 'scorecard_unavailable', subject: usccNumber(1) });
    });

    it('is approved by the operator on the command line, audited', async function () {
      const run = await runCli(gateway.dir, ['scorecards', 'approve', 'sme_working_capital', '1', '--json']);
      expect(run.code, run.stderr).to.equal(0);
      const { scorecard } = json<{ scorecard: Record<string, unknown> }>(run);
      expect(scorecard).to.include({ state: 'approved', decided_by: 'operator', release_score: false });
      expect(await entry(Number(scorecard['audit_index']))).to.include({ kind: 'scorecard.approved', actor: 'operator', scorecard: 'sme_working_capital' });
      const again = await runCli(gateway.dir, ['scorecards', 'approve', 'sme_working_capital', '1', '--json']);
      expect(again.code).to.not.equal(0);
      expect(json<{ error: { code: string } }>(again).error.code).to.equal('scorecard_not_pending');
    });

    it('answers grades and reason codes in one JWS that jose verifies, with no answer, score or record value in it', async function () {
      const asked = [1, 2, 3, 4].map((n) => ({ uscc: usccNumber(n), consentId: consents.get(n) as string })).concat([{ uscc: usccNumber(999), consentId: emptyConsent }]);
      const { body, auditIndex } = await score(bank, asked);
      const { header, claims } = await verifyIndependently(gateway.url, body.answer);
      expect(header).to.include({ alg: 'ES256', typ: SCORE_TYPE });
      expect(claims['aud']).to.equal(bank.record.participantId);
      expect(claims['items']).to.deep.equal(body.items);
      const sha256 = String((await gateway.runtime.store.getScorecard('sme_working_capital', 1))?.sha256);
      // 1: no arrears, 137 insured: 500+60+40+30 = 630. 2: no arrears, 7 insured: 600. 3: owes, 137: 440. 4: 7 insured: 600.
      // 999: no records at all, every answer unknown: 500.
      expect(body.items.map((item) => [item.status, item.grade, item.reason_codes])).to.deep.equal([
        ['scored', 'A', []], ['scored', 'A', ['HEADCOUNT']], ['scored', 'D', ['ARREARS_NOW', 'ARREARS_24M']], ['scored', 'A', ['HEADCOUNT']],
        ['scored', 'C', ['ARREARS_NOW', 'HEADCOUNT']],
      ]);
      for (const item of body.items) {
        expect(item.scorecard).to.deep.equal({ id: 'sme_working_capital', version: 1, sha256 });
        expect(item).to.not.have.property('score');
        expect(item).to.not.have.property('questions');
      }
      const text = JSON.stringify(claims);
      for (const secret of [OWED_AMOUNT, CONTRIBUTION, '测试企业', 'medical_arrears_now', '50_to_199', 'insured_headcount']) expect(text).to.not.include(secret);
      expect(await entry(auditIndex)).to.include({ kind: 'score.signed', actor: 'gateway' });
      const answered = await entry(body.items[2]!.audit_index);
      expect(answered).to.include({ kind: 'score.answered', subject: usccNumber(3), consent_id: consents.get(3), grade: 'D', sha256 });
      expect(answered).to.not.have.property('score');
    });

    it('screens a list of applicants in one request and one JWS, each item its own audit entry', async function () {
      const numbers = [...Array(COHORT).keys()].map((i) => i + 1);
      const { body } = await score(bank, numbers.map((n) => ({ uscc: usccNumber(n), consentId: consents.get(n) as string })));
      expect(body.items.map((item) => item.grade)).to.deep.equal(numbers.map((n) => (owes(n) ? 'D' : 'A')));
      expect(new Set(body.items.map((item) => item.audit_index)).size).to.equal(COHORT);
      expect((await verifyIndependently(gateway.url, body.answer)).claims['items']).to.have.length(COHORT);
    });

    it('counts each score against the consent\'s max_uses, and refuses once it is spent', async function () {
      const once = String((await gateway.client(enterprises[9] as EnrolledParticipant).grantConsent({
        uscc: usccNumber(9), bank: bank.record.participantId, purpose: 'loan_approval', questions: [REF], days: 30, maxUses: 1,
      })).consent['consent_id']);
      const first = await score(bank, [{ uscc: usccNumber(9), consentId: once }]);
      expect(first.body.items[0]).to.include({ status: 'scored' });
      const second = await score(bank, [{ uscc: usccNumber(9), consentId: once }]);
      expect(second.body.items[0]).to.include({ status: 'refused', code: 'consent_not_active' });
    });

    it('refuses another bank naming the consent (consent_missing, about no one) and a consent not naming the scorecard', async function () {
      const other = await score(otherBank, [{ uscc: usccNumber(1), consentId: consents.get(1) as string }]);
      expect(other.body.items[0]).to.include({ status: 'refused', code: 'consent_missing' });
      const unmatched = await entry(other.body.items[0]!.audit_index);
      expect(unmatched).to.include({ kind: 'score.unmatched' });
      expect(unmatched).to.not.have.property('subject');
      const v2 = await score(bank, [{ uscc: usccNumber(1), consentId: consents.get(1) as string, version: 2 }]);
      expect(v2.body.items[0]).to.include({ status: 'refused', code: 'question_not_covered' });
      const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      expect(metrics).to.match(/^gateway_score_items_total\{outcome="scored",code=""\} [1-9]/m);
      expect(metrics).to.match(/^gateway_score_items_total\{outcome="refused",code="consent_missing"\} [1-9]/m);
    });

    it('refuses a consent for questions only: naming a scorecard is what allows scoring with it', async function () {
      const questionsOnly = await grant(enterprises[5] as EnrolledParticipant, ['medical_arrears_now']);
      const { body } = await score(bank, [{ uscc: usccNumber(5), consentId: questionsOnly }]);
      expect(body.items[0]).to.include({ status: 'refused', code: 'question_not_covered' });
    });

    it('refuses another bank scoring with this bank\'s scorecard, even under a consent to it naming the scorecard', async function () {
      const toOther = String((await gateway.client(enterprises[6] as EnrolledParticipant).grantConsent({
        uscc: usccNumber(6), bank: otherBank.record.participantId, purpose: 'loan_approval', questions: [REF], days: 30,
      })).consent['consent_id']);
      const { body } = await score(otherBank, [{ uscc: usccNumber(6), consentId: toOther }]);
      expect(body.items[0]).to.include({ status: 'refused', code: 'scorecard_unavailable' });
      expect(body.items[0]).to.not.have.property('grade');
    });

    it('refuses a consent whose purpose the scorecard is not for, and a grant for a purpose that allows no scoring', async function () {
      const screening = String((await gateway.client(enterprises[7] as EnrolledParticipant).grantConsent({
        uscc: usccNumber(7), bank: bank.record.participantId, purpose: 'pre_loan_investigation', questions: [REF], days: 30,
      })).consent['consent_id']);
      const { body } = await score(bank, [{ uscc: usccNumber(7), consentId: screening }]);
      expect(body.items[0]).to.include({ status: 'refused', code: 'purpose_not_allowed' });
      const grant = gateway.client(enterprises[7] as EnrolledParticipant).grantConsent({
        uscc: usccNumber(7), bank: bank.record.participantId, purpose: 'post_loan_management', questions: [REF], days: 30,
      });
      expectProblem(await refusal(grant), 422, 'purpose_not_allowed');
    });

    it('shows the approved scorecard to an enterprise deciding whether to consent, and lists it for the operator', async function () {
      const view = (await gateway.client(enterprises[8] as EnrolledParticipant).send('GET', '/v1/scorecards/sme_working_capital/versions/1')).json<Record<string, unknown>>();
      expect(view).to.include({ state: 'approved', consent_name: REF });
      expect(view['document']).to.deep.equal(soundScorecard());
      const run = await runCli(gateway.dir, ['scorecards', 'list', '--json']);
      expect(run.code, run.stderr).to.equal(0);
      expect(json<{ scorecards: Array<{ consent_name: string; state: string }> }>(run).scorecards.map((listed) => [listed.consent_name, listed.state]))
        .to.deep.include([REF, 'approved']);
    });

    it('refuses a resubmission that moves only cut points, as probing', async function () {
      const moved = soundScorecard({ version: 2, grades: [{ grade: 'A', min_points: 610 }, { grade: 'B', min_points: 540 }, { grade: 'C', min_points: 480 }, { grade: 'D' }] });
      const problem = expectProblem(await refusal(submit(bank, moved)), 422, 'scorecard_refused') as unknown as { findings: Array<{ code: string }> };
      expect(problem.findings.map((finding) => finding.code)).to.deep.equal(['cut_points_only']);
      const rebinned = soundScorecard({ version: 3 });
      // The same points, given to other answers: a cut moved inside the feature.
      features(rebinned)[1] = { ...features(rebinned)[1], bins: [
        { answers: ['under_10', '10_to_49'], points: 0 }, { answers: ['50_to_199', '200_or_more'], points: 40 }, { answers: ['unknown'], points: 10 }] };
      const rebinnedProblem = expectProblem(await refusal(submit(bank, rebinned)), 422, 'scorecard_refused') as unknown as { findings: Array<{ code: string }> };
      expect(rebinnedProblem.findings.map((finding) => finding.code)).to.deep.equal(['cut_points_only']);
    });
  });

  describe('POST /v1/scorecards/{id}/versions/{version}/backtests', function () {
    it('refuses a cohort below the minimum', async function () {
      // The other bank's scorecard has no consents at all.
      await submit(otherBank, soundScorecard({ id: 'other_bank_model', intercept: 400 }));
      await gateway.runtime.scorecards.decide('other_bank_model', 1, { approve: true, releaseScore: false });
      const response = refusal(gateway.client(otherBank).send('POST', '/v1/scorecards/other_bank_model/versions/1/backtests', {
        headers: { 'content-type': 'application/json' }, body: JSON.stringify({ purpose: 'loan_approval' }),
      }));
      expectProblem(await response, 422, 'cohort_too_small');
    });

    it('releases only the grade distribution, ROC AUC and KS over the consenting enterprises, signed', async function () {
      const labels = [...Array(COHORT).keys()].map((i) => ({ uscc: usccNumber(i + 1), outcome: owes(i + 1) ? 1 : 0 }));
      const { answer, aggregates } = await backtest(bank, { purpose: 'loan_approval', labels });
      const { header, claims } = await verifyIndependently(gateway.url, answer);
      expect(header).to.include({ typ: BACKTEST_TYPE });
      // 24 consents naming the scorecard plus the empty enterprise's; 8 owe (grade D), the rest A; the empty one C.
      expect(aggregates).to.deep.include({
        cohort_size: COHORT + 1, labelled: COHORT, roc_auc: 1, ks: 1,
        grade_distribution: [{ grade: 'A', count: 16 }, { grade: 'B', count: 0 }, { grade: 'C', count: 1 }, { grade: 'D', count: 8 }],
      });
      expect(Object.keys(aggregates).sort()).to.deep.equal(['as_of', 'cohort_size', 'grade_distribution', 'ks', 'labelled', 'purpose', 'roc_auc', 'scorecard']);
      expect(JSON.stringify(claims)).to.not.include(usccNumber(1));
    });

    it('refuses a back-test whose labels differ from an earlier one in a single enterprise (differencing)', async function () {
      const labels = [...Array(COHORT).keys()].map((i) => ({ uscc: usccNumber(i + 1), outcome: owes(i + 1) || i === 0 ? 1 : 0 }));
      expectProblem(await refusal(backtest(bank, { purpose: 'loan_approval', labels })), 422, 'backtest_too_similar');
    });

    it('omits ROC AUC and KS when an outcome has too few labels', async function () {
      // Two labels where the first back-test had 24: it differs in every enterprise, but only bad outcomes are labelled.
      const labels = [1, 2].map((n) => ({ uscc: usccNumber(n), outcome: 1 }));
      const { aggregates } = await backtest(bank, { purpose: 'loan_approval', labels });
      expect(aggregates).to.include({ labelled: 2, cohort_size: COHORT + 1 });
      expect(aggregates).to.not.have.property('roc_auc');
      expect(aggregates).to.not.have.property('ks');
    });
  });
});
