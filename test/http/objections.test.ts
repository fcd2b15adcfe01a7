// Credit reports and objections end to end on a real gateway (127.0.0.1, port 0): a bank fetches a pre-loan report
// and checks it with jose and its proof offline; the enterprise objects to an answer in it; the next report says
// disputed (signed, and in the PDF); the source corrects with a batch that references the objection; the bank's
// webhook receives answer.corrected (Standard Webhooks, then jose) naming the audit entry of the corrected answer;
// the next report is correct and not disputed; the enterprise sees the history. Then the other paths: a
// confirmation, the refusals, and the deadline (with a clock of the test's own).
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { createObjectionService } from '../../gateway/objections/index.js';
import type { ObjectionView } from '../../gateway/objections/index.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { verifyReportFile } from '../../gateway/reports/index.js';
import type { ReportBundle } from '../../gateway/reports/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { expectProblem, refusal } from '../support/problems.js';
import { startReceiver } from '../monitoring/receiver.js';
import type { Receiver } from '../monitoring/receiver.js';
import { pdfText } from '../support/pdf.js';

const USCC = '91350100M000100Y43';
const OTHER_USCC = '91110108722619411A';
const NAME = '泉州测试欠费机械有限公司';
const TEMPLATE = 'pre_loan_investigation';
const ARREARS_NOW = 'medical_arrears_now';
const DISPUTED_DATASETS = ['medical_insurance_arrears', 'medical_insurance_payments'];

function monthsAgo(back: number): string {
  const [year, month] = todayInShanghai().split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - back;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

function ndjson(rows: readonly object[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

interface Answer {
  readonly id: string;
  readonly answer: unknown;
  readonly disputed?: boolean;
}

describe('credit reports and objections, end to end', function () {
  let gateway: TestGateway;
  let source: EnrolledParticipant;
  let enterprise: EnrolledParticipant;
  let bank: EnrolledParticipant;
  let receiver: Receiver;
  let keySet: JSONWebKeySet;
  let consentId: string;
  let templateQuestions: string[];

  async function report(): Promise<{ bundle: ReportBundle; claims: Record<string, unknown>; answers: Map<string, Answer> }> {
    const { bundle } = await gateway.client(bank).report({ template: TEMPLATE, uscc: USCC, consentId, loanReference: 'LN-2026-0042', officer: '信贷员 李娜' });
    // With nothing of the gateway's code: jose against the published JWKS.
    const { payload, protectedHeader } = await compactVerify(bundle.report, createLocalJWKSet(keySet), { algorithms: ['ES256'] });
    expect(protectedHeader.typ).to.equal('gateway-report+jwt');
    const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
    return { bundle, claims, answers: new Map((claims['answers'] as Answer[]).map((answer) => [answer.id, answer])) };
  }

  async function verifiedOffline(bundle: ReportBundle): Promise<boolean> {
    const result = await verifyReportFile(JSON.stringify(bundle), {
      jwks: keySet, verifierKey: (await (await fetch(`${gateway.url}/v1/audit/note-key`)).text()).trimEnd(),
      templates: gateway.runtime.templates, catalog: gateway.runtime.questions,
    });
    return result.ok;
  }

  async function entry(index: number): Promise<Record<string, unknown>> {
    const [stored] = await gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
    return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
  }

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000', GATEWAY_ALERT_POLL_MS: '50', GATEWAY_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32' });
    source = await gateway.enrol('source', { datasets: DISPUTED_DATASETS });
    enterprise = await gateway.enrol('enterprise', { uscc: USCC, name: NAME });
    bank = await gateway.enrol('bank');
    receiver = await startReceiver();
    receiver.secret = (await gateway.runtime.configureWebhook(bank.record.participantId, { url: receiver.url })).secret;
    keySet = await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json() as JSONWebKeySet;
    await gateway.client(source).ingest('medical_insurance_arrears', ndjson([
      { enterprise_name: NAME, uscc: USCC, arrears_period: monthsAgo(3), arrears_amount: '4321.09' },
    ]), { format: 'ndjson' });
    await gateway.client(source).ingest('medical_insurance_payments', ndjson([
      { enterprise_name: NAME, uscc: USCC, contribution_month: monthsAgo(1), insured_headcount: 137, employer_contribution_amount: '9876.54' },
    ]), { format: 'ndjson' });
    templateQuestions = gateway.runtime.templates.get(TEMPLATE).questions.map((question) => question.id);
    const granted = await gateway.client(enterprise).grantConsent({
      uscc: USCC, bank: bank.record.participantId, purpose: 'pre_loan_investigation', questions: templateQuestions, days: 30,
    });
    consentId = String(granted.consent['consent_id']);
  });

  after(async function () {
    await receiver?.close();
    await gateway?.stop();
  });

  describe('a pre-loan report, an objection and its correction', function () {
    let first: Awaited<ReturnType<typeof report>>;
    let disputed: Awaited<ReturnType<typeof report>>;
    let corrected: Awaited<ReturnType<typeof report>>;
    let objection: ObjectionView;
    let correction: Record<string, unknown>;
    const evidence = Buffer.from('%PDF-1.4 结清证明 (test evidence)');

    it('1. the bank fetches a pre-loan report that verifies with jose and its proof offline', async function () {
      first = await report();
      expect(first.answers.get(ARREARS_NOW)).to.deep.include({ answer: true });
      expect(first.claims['disputed']).to.equal(false);
      expect(await verifiedOffline(first.bundle)).to.equal(true);
    });

    it('2. the enterprise objects to that answer, with a reason and evidence; the objection is audited', async function () {
      objection = await gateway.client(enterprise).raiseObjection({
        target: { audit_index: first.bundle.audit.index, question: ARREARS_NOW },
        reason: '该笔欠费已于上月补缴结清，医保局数据未更新。',
        evidence: [{ name: '结清证明.pdf', media_type: 'application/pdf', content: evidence.toString('base64') }],
      }) as unknown as ObjectionView;
      expect(objection).to.include({ state: 'open', overdue: false, uscc: USCC });
      expect([...objection.datasets].sort()).to.deep.equal(DISPUTED_DATASETS);
      expect(Date.parse(objection.due_at) - Date.parse(objection.raised_at)).to.equal(20 * 86_400_000);
      expect(objection.evidence[0]).to.include({ name: '结清证明.pdf', sha256: createHash('sha256').update(evidence).digest('hex'), size: evidence.length });
      const raised = await entry(objection.audit_index);
      expect(raised).to.include({ kind: 'objection.raised', actor: enterprise.record.participantId, subject: USCC, objection_id: objection.objection_id });
      expect(JSON.stringify(raised)).to.not.include('补缴');
    });

    it('3. the next report says disputed, signed, on exactly the answers that read the disputed records, and in the PDF', async function () {
      disputed = await report();
      expect(disputed.claims['disputed']).to.equal(true);
      expect(disputed.answers.get(ARREARS_NOW)).to.deep.include({ answer: true, disputed: true });
      for (const question of gateway.runtime.templates.get(TEMPLATE).questions) {
        const reads = question.datasets.some((dataset) => DISPUTED_DATASETS.includes(dataset));
        expect(disputed.answers.get(question.id)?.disputed, question.id).to.equal(reads ? true : undefined);
      }
      expect(await verifiedOffline(disputed.bundle)).to.equal(true);
      const text = pdfText(await gateway.client(bank).reportPdf(disputed.bundle.report_id), gateway.dir);
      expect(text).to.include('注意：本报告').and.include('存在异议');
    });

    it('4. the source sees it in its queue, with the evidence', async function () {
      const queue = (await gateway.client(source).send('GET', '/v1/objections?state=open')).json<{ objections: ObjectionView[] }>();
      expect(queue.objections.map((found) => found.objection_id)).to.deep.equal([objection.objection_id]);
      expect(queue.objections[0]?.evidence[0]).to.not.have.property('content');
      const one = (await gateway.client(source).send('GET', `/v1/objections/${objection.objection_id}`)).json<ObjectionView>();
      expect(one.evidence[0]?.content).to.equal(evidence.toString('base64'));
      expect(one.reason).to.equal('该笔欠费已于上月补缴结清，医保局数据未更新。');
    });

    it('5. the source corrects with a batch that references the objection, which closes it in the same transaction', async function () {
      const result = await gateway.client(source).ingest('medical_insurance_arrears', ndjson([
        { enterprise_name: NAME, uscc: USCC, arrears_period: monthsAgo(3), arrears_amount: '0.00' },
      ]), { format: 'ndjson', objectionId: objection.objection_id });
      expect(result.verified.claims).to.include({ outcome: 'stored', objection_id: objection.objection_id });
      correction = result.objection as Record<string, unknown>;
      expect(correction).to.include({ state: 'corrected', resolved_by: source.record.participantId });
      expect(correction['resolution']).to.deep.equal({ batch_id: result.verified.claims['batch_id'], dataset: 'medical_insurance_arrears' });
      const batchEntry = await entry(Number(result.verified.claims['audit_index']));
      expect(batchEntry).to.include({ kind: 'ingest.batch', objection_id: objection.objection_id });
    });

    it('6. the bank is notified through its webhook, signed, with the corrected answer and its audit index', async function () {
      await receiver.waitFor(1);
      const delivery = receiver.unique.find((found) => found.body.split('.').length === 3) as { body: string };
      const { payload, protectedHeader } = await compactVerify(delivery.body, createLocalJWKSet(keySet), { algorithms: ['ES256'] });
      expect(protectedHeader.typ).to.equal('gateway-alert+jwt');
      const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
      expect(claims).to.include({ type: 'answer.corrected', aud: bank.record.participantId, objection_id: objection.objection_id });
      const corrections = claims['corrections'] as { question: { id: string }; old_answer: unknown; new_answer: unknown; answered_audit_index: number }[];
      const arrears = corrections.find((found) => found.question.id === ARREARS_NOW);
      // The last answer the bank was given is the disputed report's.
      expect(arrears).to.include({ old_answer: true, new_answer: false, answered_audit_index: disputed.bundle.audit.index });
      const correctedEntry = await entry(Number(claims['corrected_audit_index']));
      expect(correctedEntry).to.include({ kind: 'answer.corrected', subject: USCC, objection_id: objection.objection_id });
      const banks = correctedEntry['banks'] as { bank: string; corrections: { question: { id: string }; new_answer: unknown }[] }[];
      expect(banks.map((notice) => notice.bank)).to.deep.equal([bank.record.participantId]);
      expect(banks[0]?.corrections.find((found) => found.question.id === ARREARS_NOW)?.new_answer).to.equal(false);
    });

    it('7. the next report is correct and not disputed', async function () {
      corrected = await report();
      expect(corrected.claims['disputed']).to.equal(false);
      expect(corrected.answers.get(ARREARS_NOW)).to.deep.include({ answer: false });
      expect([...corrected.answers.values()].some((answer) => 'disputed' in answer)).to.equal(false);
      expect(await verifiedOffline(corrected.bundle)).to.equal(true);
    });

    it('8. the enterprise sees the history of its objection, every change with its audit entry', async function () {
      const seen = (await gateway.client(enterprise).send('GET', `/v1/objections/${objection.objection_id}`)).json<ObjectionView>();
      expect(seen.history.map((event) => event.type)).to.deep.equal(['raised', 'corrected', 'banks_notified']);
      for (const event of seen.history) expect(event.audit_index, event.type).to.be.a('number');
      expect(await entry(seen.history[1]!.audit_index!)).to.include({ kind: 'objection.corrected', objection_id: objection.objection_id });
      const mine = (await gateway.client(enterprise).send('GET', '/v1/objections')).json<{ objections: ObjectionView[] }>();
      expect(mine.objections.map((found) => [found.objection_id, found.state])).to.deep.include([objection.objection_id, 'corrected']);
    });
  });

  describe('a confirmed objection', function () {
    it('is closed by the source with a note, audited, and answers are no longer disputed; a second resolution is refused', async function () {
      const raised = await gateway.client(enterprise).raiseObjection({ target: { dataset: 'medical_insurance_payments' }, reason: '参保人数有误' });
      const objectionId = String(raised['objection_id']);
      expect(await gateway.runtime.store.disputedDatasets(USCC)).to.deep.equal(['medical_insurance_payments']);
      const confirmed = await gateway.client(source).confirmObjection(objectionId, '经核对，参保人数以申报为准，数据无误。') as unknown as ObjectionView;
      expect(confirmed).to.include({ state: 'confirmed', resolved_by: source.record.participantId });
      expect(await entry(confirmed.history[1]!.audit_index!)).to.include({ kind: 'objection.confirmed', objection_id: objectionId });
      expect(await gateway.runtime.store.disputedDatasets(USCC)).to.deep.equal([]);
      expectProblem(await refusal(gateway.client(source).confirmObjection(objectionId, 'again')), 409, 'objection_not_open');
      expectProblem(await refusal(gateway.client(source).ingest('medical_insurance_payments', ndjson([
        { enterprise_name: NAME, uscc: USCC, contribution_month: monthsAgo(1), insured_headcount: 140, employer_contribution_amount: '9876.54' },
      ]), { format: 'ndjson', objectionId })), 409, 'objection_not_open');
    });
  });

  describe('refusals', function () {
    it('refuses an objection to an answer about another enterprise as if there were none', async function () {
      const other = await gateway.enrol('enterprise', { uscc: OTHER_USCC });
      const index = await gateway.runtime.audit.log.size() - 1;
      for (const target of [{ audit_index: index, question: ARREARS_NOW }, { audit_index: 10 ** 9, question: ARREARS_NOW }]) {
        expectProblem(await refusal(gateway.client(other).raiseObjection({ target, reason: 'x' })), 422, 'objection_target_invalid');
      }
      expectProblem(await refusal(gateway.client(other).raiseObjection({ target: { dataset: 'no_such_dataset' }, reason: 'x' })), 422, 'objection_target_invalid');
      expectProblem(await refusal(gateway.client(other).raiseObjection({ target: { dataset: 'water_accounts' }, reason: '' })), 400, 'invalid_argument');
    });

    it('keeps an objection from sources of other datasets, other enterprises and banks', async function () {
      const raised = await gateway.client(enterprise).raiseObjection({ target: { dataset: 'medical_insurance_arrears' }, reason: '欠费金额有误' });
      const path = `/v1/objections/${String(raised['objection_id'])}`;
      const waterSource = await gateway.enrol('source', { datasets: ['water_accounts'] });
      const other = await gateway.enrol('enterprise', { uscc: '91370124962235783B' });
      for (const participant of [waterSource, other]) expectProblem(await refusal(gateway.client(participant).send('GET', path)), 404, 'not_found');
      expectProblem(await refusal(gateway.client(bank).send('GET', path)), 403, 'role_not_allowed');
      expect((await gateway.client(waterSource).send('GET', '/v1/objections')).json<{ objections: unknown[] }>().objections).to.deep.equal([]);
      expectProblem(await refusal(gateway.client(waterSource).confirmObjection(String(raised['objection_id']), 'x')), 404, 'not_found');
      await gateway.client(source).confirmObjection(String(raised['objection_id']), '数据无误');
    });

    it('refuses a correcting batch that holds no record about the enterprise, storing nothing, and the objection stays open', async function () {
      const raised = await gateway.client(enterprise).raiseObjection({ target: { dataset: 'medical_insurance_arrears' }, reason: '欠费记录有误' });
      const objectionId = String(raised['objection_id']);
      const before = await gateway.runtime.store.countRecords('medical_insurance_arrears');
      expectProblem(await refusal(gateway.client(source).ingest('medical_insurance_arrears', ndjson([
        { enterprise_name: '别的企业', uscc: OTHER_USCC, arrears_period: monthsAgo(2), arrears_amount: '10.00' },
      ]), { format: 'ndjson', objectionId })), 422, 'correction_not_about_subject');
      expect(await gateway.runtime.store.countRecords('medical_insurance_arrears')).to.equal(before);
      expect((await gateway.runtime.store.getObjection(objectionId))?.state).to.equal('open');
      expectProblem(await refusal(gateway.client(source).ingest('medical_insurance_payments', ndjson([
        { enterprise_name: NAME, uscc: USCC, contribution_month: monthsAgo(1), insured_headcount: 1, employer_contribution_amount: '1.00' },
      ]), { format: 'ndjson', objectionId })), 403, 'objection_not_permitted');
      await gateway.client(source).confirmObjection(objectionId, '数据无误');
    });
  });

  describe('the deadline', function () {
    it('flags an objection open past its deadline overdue, once, audited, and lists it as overdue', async function () {
      let clock = Date.now();
      const objections = createObjectionService({
        store: gateway.runtime.store, questions: gateway.runtime.questions, records: gateway.runtime.records, audit: gateway.runtime.audit.log,
        blindIndexKey: { hash: 'sha256', secret: Buffer.alloc(32) }, deadlineDays: 20, now: () => new Date(clock),
      });
      const raised = await gateway.client(enterprise).raiseObjection({ target: { dataset: 'medical_insurance_arrears' }, reason: '逾期测试' });
      const objectionId = String(raised['objection_id']);
      expect(await objections.sweepOverdue()).to.equal(0);
      clock += 20 * 86_400_000 + 60_000;
      expect(await objections.sweepOverdue()).to.equal(1);
      expect(await objections.sweepOverdue()).to.equal(0);
      const stored = await gateway.runtime.store.getObjection(objectionId);
      expect(stored?.overdueAt).to.be.a('string');
      const history = await gateway.runtime.store.objectionEvents(objectionId);
      expect(history.map((event) => event.type)).to.deep.equal(['raised', 'overdue']);
      expect(await entry(history[1]!.auditIndex!)).to.include({ kind: 'objection.overdue', actor: 'gateway', objection_id: objectionId });
      expect((await objections.listAll({ overdue: true }, 10)).map((found) => [found.objection_id, found.overdue])).to.deep.equal([[objectionId, true]]);
      await gateway.client(source).confirmObjection(objectionId, '数据无误');
    });
  });
});
