// Policy push (政策直达) on a real gateway (127.0.0.1, port 0): the policies are checked against the catalog at load;
// an enterprise reads its eligibility signed for itself or for a bank (verified with jose against the JWKS, audited
// about it); an enterprise without data is `unknown`, not refused; the owning department gets counts with small cells
// suppressed, and anyone else is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { loadQuestionCatalog } from '../../gateway/policies/index.js';
import type { Answer } from '../../gateway/policies/index.js';
import { eligibilityOf, loadSupportPolicies, suppress } from '../../gateway/support/index.js';
import type { SupportPolicy } from '../../gateway/support/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { uscc } from '../monitoring/support.js';
import { expectProblem, refusal } from '../support/problems.js';

function monthsAgo(back: number): string {
  const [year, month] = todayInShanghai().split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - back;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

const ndjson = (rows: readonly object[]) => rows.map((row) => JSON.stringify(row)).join('\n');

describe('support policies (政策直达)', function () {
  describe('eligibility and suppression', function () {
    const policy = { conditions: [{ question: 'a', answers: [true] }, { question: 'b', answers: ['low', 'mid'] }] } as unknown as SupportPolicy;
    const answers = (entries: [string, Answer][]) => new Map<string, Answer>(entries);

    it('is eligible when all hold, not eligible when one fails (even beside an unknown), unknown otherwise', function () {
      expect(eligibilityOf(policy, answers([['a', true], ['b', 'mid']]))).to.equal('eligible');
      expect(eligibilityOf(policy, answers([['a', false], ['b', 'unknown']]))).to.equal('not_eligible');
      expect(eligibilityOf(policy, answers([['a', true], ['b', 'unknown']]))).to.equal('unknown');
      expect(eligibilityOf(policy, answers([['a', true]])), 'an answer not given is unknown').to.equal('unknown');
    });

    it('suppresses small cells, and a second cell when one alone would follow from the total', function () {
      expect(suppress({ eligible: 40, not_eligible: 12, unknown: 0 }, 10)).to.deep.equal({ eligible: 40, not_eligible: 12, unknown: 0 });
      expect(suppress({ eligible: 40, not_eligible: 12, unknown: 3 }, 10)).to.deep.equal({ eligible: 40, not_eligible: null, unknown: null });
      expect(suppress({ eligible: 40, not_eligible: 2, unknown: 3 }, 10)).to.deep.equal({ eligible: 40, not_eligible: null, unknown: null });
      expect(suppress({ eligible: 1, not_eligible: 1, unknown: 1 }, 10)).to.deep.equal({ eligible: null, not_eligible: null, unknown: null });
    });

    it('refuses a policy naming a question the catalog lacks, or an answer it cannot give', function () {
      const catalog = loadQuestionCatalog();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-support-'));
      try {
        const definition = (question: string, answers: unknown[]) => ({
          id: 'p', version: 1, title: { zh: '测', en: 't' }, department: { zh: '测', en: 't' }, description: { zh: '测', en: 't' },
          owners: [], eligibility: { all: [{ question, answers }] },
        });
        fs.writeFileSync(path.join(dir, 'p.v1.json'), JSON.stringify(definition('no_such_question', [true])));
        expect(() => loadSupportPolicies(catalog, dir)).to.throw(/p\.v1\.json: names no question of the catalog: "no_such_question"/);
        fs.writeFileSync(path.join(dir, 'p.v1.json'), JSON.stringify(definition('medical_headcount_band', ['huge'])));
        expect(() => loadSupportPolicies(catalog, dir)).to.throw(/"huge" is not an answer of medical_headcount_band/);
        fs.rmSync(path.join(dir, 'p.v1.json'));
        fs.writeFileSync(path.join(dir, 'p.v2.json'), JSON.stringify(definition('medical_arrears_now', [true])));
        expect(() => loadSupportPolicies(catalog, dir)).to.throw(/the file must be named p\.v1\.json/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('on a running gateway', function () {
    let gateway: TestGateway;
    let department: EnrolledParticipant;
    let otherSource: EnrolledParticipant;
    let bank: EnrolledParticipant;
    let payer: EnrolledParticipant;
    let owing: EnrolledParticipant;
    let unknown: EnrolledParticipant;

    before(async function () {
      gateway = await startTestGateway({ GATEWAY_SUPPORT_MIN_CELL: '2', GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000' });
      const datasets = ['medical_insurance_payments', 'medical_insurance_arrears'];
      [department, otherSource, bank, payer, owing, unknown] = await Promise.all([
        gateway.enrol('source', { id: 'dev-source', datasets }), gateway.enrol('source', { datasets }), gateway.enrol('bank'),
        gateway.enrol('enterprise', { uscc: uscc(501) }), gateway.enrol('enterprise', { uscc: uscc(502) }), gateway.enrol('enterprise', { uscc: uscc(503) }),
      ]);
      const payments = [uscc(501), uscc(502)].flatMap((subject) => [1, 2, 3].map((back) => ({
        enterprise_name: `测试企业${subject.slice(-4)}`, uscc: subject, contribution_month: monthsAgo(back), insured_headcount: 20, employer_contribution_amount: '3000.00',
        latest_normal_payment_month: monthsAgo(back),
      })));
      await gateway.client(department).ingest('medical_insurance_payments', ndjson(payments), { format: 'ndjson' });
      await gateway.client(department).ingest('medical_insurance_arrears', ndjson([
        { enterprise_name: '测试企业0501', uscc: uscc(501), arrears_period: monthsAgo(30), arrears_amount: '0.00' },
        { enterprise_name: '测试企业0502', uscc: uscc(502), arrears_period: monthsAgo(2), arrears_amount: '812.40' },
      ]), { format: 'ndjson' });
    });
    after(async () => gateway?.stop());

    const eligibility = async (who: EnrolledParticipant, query = '') => {
      const response = await gateway.client(who).send('GET', `/v1/support-policies/eligibility${query}`);
      return response.json<{ eligibility: string; policies: { policy: string; eligibility: string; definition_hash: string }[]; audit_index: number }>();
    };
    const entry = async (index: number) => {
      const [stored] = await gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
      return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
    };

    it('tells each enterprise its own eligibility, signed for it and audited about it, without a record value', async function () {
      const [paid, owed, none] = await Promise.all([eligibility(payer), eligibility(owing), eligibility(unknown)]);
      const subsidy = (given: typeof paid) => given.policies.find((result) => result.policy === 'first_loan_subsidy')?.eligibility;
      expect([subsidy(paid), subsidy(owed), subsidy(none)]).to.deep.equal(['eligible', 'not_eligible', 'unknown']);
      expect(paid.policies.map((result) => result.policy).sort()).to.deep.equal(gateway.runtime.support.policies.policies.map((policy) => policy.id).sort());

      const verified = await gateway.client(payer).verify(paid.eligibility, 'gateway-support-eligibility+jwt');
      expect(verified.claims).to.include({ aud: payer.record.participantId, sub: uscc(501), audit_index: paid.audit_index });
      expect(verified.claims['policies']).to.deep.equal(paid.policies);
      const logged = await entry(paid.audit_index);
      expect(logged).to.include({ kind: 'support.eligibility_given', actor: payer.record.participantId, subject: uscc(501) });
      expect(logged).to.not.have.property('bank');
      expect(JSON.stringify(logged) + JSON.stringify(verified.claims), 'no record value').to.not.include('812.40').and.not.include('3000.00');
    });

    it('signs it for a bank the enterprise names, which the audit entry records; a participant that is not an active bank is refused', async function () {
      const passed = await eligibility(payer, `?bank=${bank.record.participantId}`);
      const verified = await gateway.client(bank).verify(passed.eligibility, 'gateway-support-eligibility+jwt');
      expect(verified.claims).to.include({ aud: bank.record.participantId, sub: uscc(501) });
      expect(await entry(passed.audit_index)).to.include({ bank: bank.record.participantId, subject: uscc(501) });
      expectProblem(await refusal(eligibility(payer, `?bank=${department.record.participantId}`)), 400, 'invalid_argument');
      expectProblem(await refusal(eligibility(payer, '?bank=NOT%20AN%20ID')), 400, 'invalid_argument');
    });

    it('gives the owning department counts with small cells suppressed, signed and audited; refuses anyone else', async function () {
      const counts = (await gateway.client(department).send('GET', '/v1/support-policies/first_loan_subsidy/counts'))
        .json<{ counts: string; eligible: number | null; not_eligible: number | null; unknown: number | null; min_cell: number; audit_index: number }>();
      // One of each: every cell is below 2, so all are suppressed.
      expect(counts).to.include({ eligible: null, not_eligible: null, unknown: null, min_cell: 2 });
      const verified = await gateway.client(department).verify(counts.counts, 'gateway-support-counts+jwt');
      expect(verified.claims).to.deep.include({ policy: 'first_loan_subsidy', counts: { eligible: null, not_eligible: null, unknown: null } });
      expect(await entry(counts.audit_index)).to.include({ kind: 'support.counts_read', actor: 'dev-source', policy: 'first_loan_subsidy' });

      // A second eligible enterprise: its cell reaches the minimum and is shown; the other two stay hidden together.
      const second = await gateway.enrol('enterprise', { uscc: uscc(504) });
      await gateway.client(department).ingest('medical_insurance_payments', ndjson([1, 2, 3].map((back) => ({
        enterprise_name: '测试企业0504', uscc: uscc(504), contribution_month: monthsAgo(back), insured_headcount: 15, employer_contribution_amount: '2000.00',
        latest_normal_payment_month: monthsAgo(back),
      }))), { format: 'ndjson' });
      await gateway.client(department).ingest('medical_insurance_arrears', ndjson([
        { enterprise_name: '测试企业0504', uscc: uscc(504), arrears_period: monthsAgo(30), arrears_amount: '0.00' },
      ]), { format: 'ndjson', batchId: 'second-arrears' });
      expect((await eligibility(second)).policies.find((result) => result.policy === 'first_loan_subsidy')?.eligibility).to.equal('eligible');
      const again = (await gateway.client(department).send('GET', '/v1/support-policies/first_loan_subsidy/counts')).json<Record<string, unknown>>();
      expect(again).to.include({ eligible: 2, not_eligible: null, unknown: null });

      expectProblem(await refusal(gateway.client(otherSource).send('GET', '/v1/support-policies/first_loan_subsidy/counts')), 403, 'support_policy_not_owned');
      expectProblem(await refusal(gateway.client(payer).send('GET', '/v1/support-policies/first_loan_subsidy/counts')), 403, 'role_not_allowed');
    });
  });
});
