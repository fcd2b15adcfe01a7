// Pins POST /v1/reports on a real gateway (127.0.0.1, port 0): a source sends medical-insurance records of an
// enterprise, the enterprise consents to a pre-loan investigation, and the bank's report is checked with nothing of
// the gateway's code — the JWS with jose against the JWKS, the entry with an inclusion proof against a checkpoint
// signed with the note key — and with `verifyReportFile`; the PDF is read back with pdftotext; then the refusals,
// the public check link (hashes, no answers), and the role and ownership checks.
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { parseCheckpoint } from '../../gateway/audit/checkpoint.js';
import { verifyInclusion } from '../../gateway/audit/verify.js';
import { openNote, parseVerifierKey } from '../../gateway/crypto/note.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { verifyReportFile } from '../../gateway/reports/index.js';
import type { ReportBundle } from '../../gateway/reports/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { pdfText } from '../support/pdf.js';
import { expectProblem, refusal } from '../support/problems.js';

const USCC = '91350100M000100Y43';
const NAME = '泉州测试欠费机械有限公司';
const OWED_AMOUNT = '4321.09';
const TEMPLATE = 'pre_loan_investigation';

const fromBase64 = (text: string) => Buffer.from(text, 'base64');

function monthsAgo(back: number): string {
  const [year, month] = todayInShanghai().split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - back;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function ndjson(rows: readonly object[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

describe('POST /v1/reports', function () {
  let gateway: TestGateway;
  let source: EnrolledParticipant;
  let enterprise: EnrolledParticipant;
  let bank: EnrolledParticipant;
  let otherBank: EnrolledParticipant;
  let templateQuestions: string[];
  let consentId: string;

  async function grant(purpose: 'pre_loan_investigation' | 'loan_approval', questions: readonly string[], maxUses?: number): Promise<string> {
    const granted = await gateway.client(enterprise).grantConsent({ uscc: USCC, bank: bank.record.participantId, purpose, questions, days: 30, maxUses });
    return String(granted.consent['consent_id']);
  }

  function ask(participant: EnrolledParticipant, overrides: Partial<{ template: string; consentId: string }> = {}) {
    return gateway.client(participant).report({
      template: overrides.template ?? TEMPLATE, uscc: USCC, consentId: overrides.consentId ?? consentId, loanReference: 'LN-2026-0042',
      officer: '信贷员 李娜',
    });
  }

  async function entry(index: number): Promise<Record<string, unknown>> {
    const [stored] = await gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
    return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
  }

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000' });
    source = await gateway.enrol('source', { datasets: ['medical_insurance_arrears', 'medical_insurance_payments'] });
    enterprise = await gateway.enrol('enterprise', { uscc: USCC, name: NAME });
    bank = await gateway.enrol('bank', { name: '测试银行' });
    otherBank = await gateway.enrol('bank');
    await gateway.client(source).ingest('medical_insurance_arrears', ndjson([
      { enterprise_name: NAME, uscc: USCC, arrears_period: monthsAgo(3), arrears_amount: OWED_AMOUNT },
    ]), { format: 'ndjson' });
    await gateway.client(source).ingest('medical_insurance_payments', ndjson([
      { enterprise_name: NAME, uscc: USCC, contribution_month: monthsAgo(1), insured_headcount: 137, employer_contribution_amount: '9876.54' },
    ]), { format: 'ndjson' });
    const listed = await (await fetch(`${gateway.url}/v1/report-templates`)).json() as { templates: { id: string; sections: { questions: string[] }[] }[] };
    templateQuestions = listed.templates.find((template) => template.id === TEMPLATE)!.sections.flatMap((section) => section.questions);
    consentId = await grant('pre_loan_investigation', templateQuestions);
  });

  after(async function () {
    await gateway?.stop();
  });

  describe('a pre-loan investigation report', function () {
    let bundle: ReportBundle;
    let claims: Record<string, unknown>;

    before(async function () {
      bundle = (await ask(bank)).bundle;
    });

    it('is a JWS of typ gateway-report+jwt that jose verifies against the published JWKS', async function () {
      const keySet = await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json() as JSONWebKeySet;
      const { payload, protectedHeader } = await compactVerify(bundle.report, createLocalJWKSet(keySet), { algorithms: ['ES256'] });
      expect(protectedHeader.typ).to.equal('gateway-report+jwt');
      claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
      expect(claims).to.include({ aud: bank.record.participantId, stage: TEMPLATE, report_id: bundle.report_id, disputed: false });
      expect(claims['subject']).to.deep.equal({ uscc: USCC, name: NAME });
      expect(claims['template']).to.deep.equal({
        id: TEMPLATE, version: 1, definition_hash: gateway.runtime.templates.get(TEMPLATE).definitionHash,
      });
    });

    it('answers every question of the template in order, with data-as-of dates, and unknown where no source sent records', function () {
      const answers = claims['answers'] as { id: string; answer: unknown; data_as_of?: string; stale: boolean; disputed?: boolean }[];
      expect(answers.map((answer) => answer.id)).to.deep.equal(templateQuestions);
      const byId = new Map(answers.map((answer) => [answer.id, answer]));
      expect(byId.get('medical_arrears_now')).to.include({ answer: true, data_as_of: todayInShanghai(), stale: false });
      expect(byId.get('medical_headcount_band')).to.include({ answer: '50_to_199' });
      expect(byId.get('electricity_arrears_now')).to.deep.include({ answer: 'unknown', stale: false });
      expect(byId.get('electricity_arrears_now')).to.not.have.property('data_as_of');
      expect(answers.some((answer) => 'disputed' in answer)).to.equal(false);
    });

    it('logs report.generated with every answer and the template hash, and report.signed with the hash of the JWS', async function () {
      const generated = await entry(bundle.audit.index);
      expect(generated).to.include({
        kind: 'report.generated', actor: bank.record.participantId, subject: USCC, consent_id: consentId, report_id: bundle.report_id,
        template: TEMPLATE, template_hash: gateway.runtime.templates.get(TEMPLATE).definitionHash,
      });
      expect(generated['questions']).to.deep.equal(claims['answers']);
      expect(JSON.parse(bundle.audit.entry)).to.deep.equal(generated);
      const signed = await entry(bundle.audit.index + 1);
      expect(signed).to.include({ kind: 'report.signed', report_id: bundle.report_id, report_sha256: createHash('sha256').update(bundle.report).digest('hex') });
      expect(JSON.stringify(generated)).to.not.include(OWED_AMOUNT);
    });

    it('carries an inclusion proof of its entry against a checkpoint signed with the log\'s note key', async function () {
      const noteKey = (await (await fetch(`${gateway.url}/v1/audit/note-key`)).text()).trimEnd();
      const checkpoint = parseCheckpoint(openNote(Buffer.from(bundle.audit.checkpoint), [parseVerifierKey(noteKey)]).text);
      const proof = bundle.audit.inclusion_proof;
      expect(Number(checkpoint.size)).to.equal(proof.tree_size);
      const leaf = createHash('sha256').update(Uint8Array.of(0)).update(bundle.audit.entry).digest();
      expect(leaf.toString('base64')).to.equal((claims['audit'] as { leaf_hash: string }).leaf_hash);
      verifyInclusion(BigInt(proof.leaf_index), BigInt(proof.tree_size), leaf, proof.proof.map(fromBase64), checkpoint.rootHash);
    });

    it('passes every check of verifyReportFile, and fails the right one when a part is tampered with', async function () {
      const keySet = await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json() as JSONWebKeySet;
      const trust = {
        jwks: keySet, verifierKey: gateway.runtime.audit.noteKey.verifierKey, templates: gateway.runtime.templates, catalog: gateway.runtime.questions,
      };
      const good = await verifyReportFile(JSON.stringify(bundle), trust);
      expect(good.checks.map((check) => [check.check, check.ok])).to.deep.equal([
        ['signature', true], ['template', true], ['audit_entry', true], ['checkpoint', true], ['inclusion', true],
      ]);
      const failed = async (changed: ReportBundle) => (await verifyReportFile(JSON.stringify(changed), trust)).checks.filter((check) => !check.ok).map((check) => check.check);
      const otherEntry = bundle.audit.entry.replace('"answer":true', '"answer":false');
      expect(await failed({ ...bundle, audit: { ...bundle.audit, entry: otherEntry } })).to.deep.equal(['audit_entry']);
      const [head, payload, signature] = bundle.report.split('.') as [string, string, string];
      const forged = Buffer.from(payload, 'base64url').toString('utf8').replace('"answer":true', '"answer":false');
      expect(await failed({ ...bundle, report: `${head}.${Buffer.from(forged).toString('base64url')}.${signature}` })).to.deep.equal(['signature']);
      const root = bundle.audit.inclusion_proof.root_hash;
      const otherRoot = Buffer.from(fromBase64(root).map((byte, n) => (n === 0 ? byte ^ 1 : byte))).toString('base64');
      expect(await failed({ ...bundle, audit: { ...bundle.audit, inclusion_proof: { ...bundle.audit.inclusion_proof, root_hash: otherRoot } } }))
        .to.deep.equal(['checkpoint', 'inclusion']);
    });

    it('renders a PDF in Chinese: name, USCC, stage, answers with their dates, unknown shown as such, consent and audit index', async function () {
      const pdf = await gateway.client(bank).reportPdf(bundle.report_id);
      expect(pdf.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
      const text = pdfText(pdf, gateway.dir);
      for (const expected of [
        '企业信用报告（贷前调查）', NAME, USCC, '贷前调查', '当前是否存在职工医保欠费', '参保人数规模', '50–199人', todayInShanghai(), '未知', '无可用数据',
        consentId, `审计日志序号：${bundle.audit.index}`, bundle.links.check, 'LN-2026-0042',
      ]) expect(text, expected).to.include(expected);
      expect(text).to.not.include(OWED_AMOUNT);
      // The notice a disputed report opens with (the legend below the answers names every status, disputed too).
      expect(text).to.not.include('注意：本报告');
    });

    it('is given again to its bank, and to no other', async function () {
      const again = (await gateway.client(bank).send('GET', `/v1/reports/${bundle.report_id}`)).json<ReportBundle>();
      expect(again).to.deep.equal(bundle);
      expectProblem(await refusal(gateway.client(otherBank).send('GET', `/v1/reports/${bundle.report_id}`)), 404, 'not_found');
      expectProblem(await refusal(gateway.client(otherBank).send('GET', `/v1/reports/${bundle.report_id}/pdf`)), 404, 'not_found');
    });

    it('can be checked by anyone with its link, who sees hashes and the proof but no answer', async function () {
      const response = await fetch(`${gateway.url}${bundle.links.check}`);
      expect(response.status).to.equal(200);
      const text = await response.text();
      const check = JSON.parse(text) as Record<string, unknown>;
      expect(check).to.include({ report_id: bundle.report_id, report_sha256: createHash('sha256').update(bundle.report).digest('hex') });
      expect(check['audit']).to.deep.equal({ index: bundle.audit.index, inclusion_proof: bundle.audit.inclusion_proof, checkpoint: bundle.audit.checkpoint });
      for (const secret of ['"answer"', NAME, USCC]) expect(text).to.not.include(secret);
      expect((await fetch(`${gateway.url}/v1/reports/AAAAAAAAAAAAAAAAAAAAAA/check`)).status).to.equal(404);
    });

    it('counts one use of the consent per question', async function () {
      expect((await gateway.runtime.store.getConsent(consentId))?.uses).to.equal(templateQuestions.length);
    });
  });

  describe('refusals', function () {
    it('refuses a consent for another stage with purpose_not_allowed, and logs report.refused about the subject', async function () {
      const approval = await grant('loan_approval', ['medical_arrears_now']);
      const before = await gateway.runtime.audit.log.size();
      expectProblem(await refusal(ask(bank, { consentId: approval })), 422, 'purpose_not_allowed');
      expect(await entry(before)).to.include({ kind: 'report.refused', subject: USCC, consent_id: approval, code: 'purpose_not_allowed', template: TEMPLATE });
    });

    it('refuses a consent that does not cover every question of the template with question_not_covered', async function () {
      const partial = await grant('pre_loan_investigation', templateQuestions.slice(1));
      expectProblem(await refusal(ask(bank, { consentId: partial })), 403, 'question_not_covered');
    });

    it('refuses another bank\'s consent with consent_missing, as if it did not exist', async function () {
      expectProblem(await refusal(ask(otherBank)), 403, 'consent_missing');
      expectProblem(await refusal(ask(otherBank, { consentId: 'no-such-consent-000000' })), 403, 'consent_missing');
    });

    it('refuses a report the consent\'s remaining uses cannot cover, counting nothing', async function () {
      const small = await grant('pre_loan_investigation', templateQuestions, templateQuestions.length - 1);
      expectProblem(await refusal(ask(bank, { consentId: small })), 409, 'consent_not_active');
      expect((await gateway.runtime.store.getConsent(small))?.uses).to.equal(0);
    });

    it('refuses an unknown template with report_template_unknown, a malformed body with invalid_argument, other roles with role_not_allowed', async function () {
      expectProblem(await refusal(ask(bank, { template: 'no_such_template' })), 422, 'report_template_unknown');
      expectProblem(await refusal(gateway.client(bank).send('POST', '/v1/reports', { body: '{"template":"x"}', headers: { 'content-type': 'application/json' } })),
        400, 'invalid_argument');
      expectProblem(await refusal(ask(enterprise)), 403, 'role_not_allowed');
    });
  });
});
