// Pins the verification service (gateway/verification/verifications.ts) on a temporary runtime, with consents put
// straight into the store — so that states the grant path never produces (a question whose purpose the consent does
// not allow, a consent not yet valid) can be asked about — and with records served from the question fixtures: the
// order of the checks and the refusal each gives, every fixture case answered through the service as the fixture
// expects on the evaluation date in Asia/Shanghai, the reuse window, budgets, rate limits, the consent lock, and the
// audit entries and signed answer.
import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { AuditLog } from '../../gateway/audit/index.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';
import type { Principal } from '../../gateway/identity/requestAuthentication.js';
import { fixtureInput, loadQuestionFixtures } from '../../gateway/policies/index.js';
import type { Answer, EvaluationRecord, RecordsByDataset } from '../../gateway/policies/index.js';
import type { OpenedRecord, RecordReader } from '../../gateway/records/index.js';
import type { NewConsent } from '../../gateway/store/index.js';
import { createVerificationService } from '../../gateway/verification/index.js';
import type { ItemOutcome, VerificationRequest, VerificationResult, VerificationService } from '../../gateway/verification/index.js';
import { openTestRuntime } from '../support/runtime.js';
import type { TestRuntime } from '../support/runtime.js';
import { rejection } from '../support/problems.js';

const BANK = 'bank-unit';
const OTHER_BANK = 'bank-other';
const USCC = '91350100M000100Y43';
const OTHER_USCC = '91110108722619411A';
const ARREARS_NOW = 'medical_arrears_now';
const HEADCOUNT = 'medical_headcount_band';
/** 12:00 in Asia/Shanghai on the fixtures' usual evaluation date. */
const NOON_2025_06_15 = Date.parse('2025-06-15T04:00:00Z');
const DAY = 86_400;

interface Limits {
  bankPerSecond: number;
  consentPerMinute: number;
  reuseSeconds: number;
}

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const realSeconds = () => Math.floor(Date.now() / 1000);

function bankPrincipal(participantId: string = BANK): Principal {
  const jti = randomUUID();
  return {
    participantId, role: 'bank', name: participantId, uscc: undefined, datasets: [], certificateSha256: 'unit-test', jti,
    requestSha256: sha256Hex(jti),
  };
}

function usccNumber(n: number): string {
  const first17 = `91370100MA${String(n).padStart(7, '0')}`;
  return `${first17}${usccCheckCharacter(first17)}`;
}

function request(items: readonly { uscc?: string; consentId: string; questions: readonly string[] }[]): VerificationRequest {
  return {
    loan_reference: 'LN-unit', officer: 'unit',
    items: items.map((item) => ({ subject: { uscc: item.uscc ?? USCC }, consent_id: item.consentId, questions: item.questions })),
  };
}

/** Records per USCC and dataset, served as the record reader would; tests change them at will. */
function stubRecords(): RecordReader & { set(uscc: string, records: RecordsByDataset): void } {
  const bySubject = new Map<string, RecordsByDataset>();
  return {
    set: (uscc, records) => void bySubject.set(uscc, records),
    async bySubject(dataset, subject): Promise<OpenedRecord[]> {
      expect(subject.idType).to.equal('uscc');
      return (bySubject.get(subject.idNumber)?.[dataset] ?? []).map((record, n) => ({
        recordId: n + 1, values: record.values as OpenedRecord['values'], batchId: 'unit', source: 'unit', asOf: record.asOf,
        receivedAt: `${record.asOf}T00:00:00.000Z`, supersededBy: undefined,
      }));
    },
    async forQuestions(uscc, questions) {
      const held = bySubject.get(uscc) ?? {};
      return Object.fromEntries(questions.flatMap((question) => question.datasets).map((dataset) => [dataset, held[dataset] ?? []]));
    },
  };
}

function arrearsRecords(amountFen: number, asOf = '2025-06-15'): Record<string, EvaluationRecord[]> {
  return {
    medical_insurance_arrears: [{ values: { enterprise_name: '示例', uscc: USCC, arrears_period: '2025-03', arrears_amount: amountFen }, asOf }],
    medical_insurance_payments: [{
      values: { enterprise_name: '示例', uscc: USCC, contribution_month: '2025-05', insured_headcount: 137, employer_contribution_amount: 987654 }, asOf,
    }],
  };
}

async function entryAt(audit: AuditLog, index: number): Promise<Record<string, unknown>> {
  const [stored] = await audit.entries({ start: index, end: index + 1, limit: 1 });
  expect(stored, `audit entry ${index}`).to.not.equal(undefined);
  return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Record<string, unknown>;
}

function answersOf(item: ItemOutcome | undefined): unknown[] {
  expect(item?.status, JSON.stringify(item)).to.equal('answered');
  return item?.status === 'answered' ? item.questions.map((question) => question.answer) : [];
}

function codeOf(item: ItemOutcome | undefined): string | undefined {
  return item?.status === 'refused' ? item.code : undefined;
}

describe('createVerificationService', function () {
  let t: TestRuntime;
  let records: ReturnType<typeof stubRecords>;
  let clock: number;

  /** A service on the runtime's consents, catalog, audit log and signer, with records from `records`. */
  function service(limits: Partial<Limits> = {}): VerificationService {
    const { runtime } = t;
    return createVerificationService({
      consents: runtime.consents, consentStore: runtime.store, disputes: runtime.store, questions: runtime.questions, records, audit: runtime.audit.log,
      signer: runtime.signer, limits: { bankPerSecond: 10_000, consentPerMinute: 10_000, reuseSeconds: 3_600, bankRefusalsPerMinute: 10_000, ...limits }, now: () => new Date(clock),
    });
  }

  /**
   * A consent straight into the store. Expiry is judged by the consent service's own (real) clock and not-before by
   * the verification's, so the defaults hold for both.
   */
  async function consent(overrides: Partial<NewConsent> = {}): Promise<string> {
    const consentId = overrides.consentId ?? randomUUID();
    // A consent is usable only while an enterprise participant acts for its USCC.
    const uscc = overrides.uscc ?? USCC;
    if (!await t.runtime.store.enterpriseForUscc(uscc)) {
      const at = new Date().toISOString();
      await t.runtime.store.addParticipant({
        participantId: `enterprise-${uscc.toLowerCase()}`, role: 'enterprise', name: 'Unit enterprise', uscc, datasets: [], status: 'active',
        certificatePem: 'unit', certificateSha256: `unit-${uscc}`, notAfter: at, createdAt: at, statusChangedAt: at,
      });
    }
    await t.runtime.store.addConsent({
      consentId, enterpriseId: 'enterprise-unit', uscc: USCC, bankId: BANK, purpose: 'loan_approval', questions: [ARREARS_NOW, HEADCOUNT],
      notBefore: 0, expiresAt: realSeconds() + DAY, maxUses: undefined, replaces: undefined, artefact: 'unit', artefactSha256: 'unit',
      grantedAt: new Date().toISOString(), auditIndex: 0, ...overrides,
    }, overrides.replaces !== undefined);
    return consentId;
  }

  const uses = async (consentId: string) => (await t.runtime.store.getConsent(consentId))?.uses;
  const logSize = async () => t.runtime.audit.log.size();

  before(async function () {
    t = await openTestRuntime();
  });

  after(async function () {
    await t?.dispose();
  });

  beforeEach(function () {
    records = stubRecords();
    records.set(USCC, arrearsRecords(420_000));
    clock = NOON_2025_06_15;
  });

  describe('the checks of an item, in order', function () {
    it('answers under an active consent addressed to the bank, about its subject, for questions it covers and its purpose allows', async function () {
      const consentId = await consent();
      const { items } = await service().verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW, HEADCOUNT] }]));
      expect(answersOf(items[0])).to.deep.equal([true, '50_to_199']);
      expect(items[0]).to.include({ status: 'answered', purpose: 'loan_approval', consent_id: consentId });
    });

    it('refuses consent_missing for an unknown consent, another bank\'s and another subject\'s, without looking further', async function () {
      const theirs = await consent({ bankId: OTHER_BANK });
      const theirsRevoked = await consent({ bankId: OTHER_BANK });
      await t.runtime.store.endConsent(theirsRevoked, 'revoked', new Date().toISOString());
      const theirsExpired = await consent({ bankId: OTHER_BANK, expiresAt: realSeconds() - 1 });
      const mine = await consent();
      const { items } = await service().verify(bankPrincipal(), request([
        { consentId: randomUUID(), questions: [ARREARS_NOW] },
        { consentId: theirs, questions: [ARREARS_NOW] },
        // Another bank's consent that is revoked, expired, or does not cover the question: still only consent_missing.
        { consentId: theirsRevoked, questions: [ARREARS_NOW] },
        { consentId: theirsExpired, questions: [ARREARS_NOW] },
        { consentId: theirs, questions: ['agri_insured_now'] },
        { uscc: OTHER_USCC, consentId: mine, questions: [ARREARS_NOW] },
      ]));
      expect(items.map(codeOf)).to.deep.equal(Array(6).fill('consent_missing'));
      // No purpose in these entries: nothing about a consent the bank does not hold.
      for (const item of items) expect(await entryAt(t.runtime.audit.log, item.audit_index)).to.not.have.property('purpose');
      expect((await uses(theirs))).to.equal(0);
      expect((await uses(mine))).to.equal(0);
    });

    it('refuses consent_not_active for a revoked, replaced, exhausted, expired or not yet valid consent', async function () {
      const revoked = await consent();
      await t.runtime.store.endConsent(revoked, 'revoked', new Date().toISOString());
      const replaced = await consent();
      await consent({ replaces: replaced });
      const exhausted = await consent({ maxUses: 1 });
      expect(await t.runtime.store.useConsents([{ consentId: exhausted, count: 1, at: new Date().toISOString() }])).to.deep.equal([true]);
      const expired = await consent({ expiresAt: realSeconds() - 1 });
      const early = await consent({ notBefore: Math.floor(clock / 1000) + 60 });
      const ids = [revoked, replaced, exhausted, expired, early];
      const { items } = await service().verify(bankPrincipal(), request(ids.map((consentId) => ({ consentId, questions: [ARREARS_NOW] }))));
      expect(items.map(codeOf)).to.deep.equal(Array(5).fill('consent_not_active'));
      for (const item of items) expect(await entryAt(t.runtime.audit.log, item.audit_index)).to.include({ kind: 'verification.refused', purpose: 'loan_approval' });
    });

    it('refuses question_not_covered before looking at the purpose', async function () {
      // The grant path would refuse this consent (screening may not use the headcount band); the store does not.
      const consentId = await consent({ purpose: 'customer_screening', questions: [HEADCOUNT] });
      const { items } = await service().verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]));
      expect(codeOf(items[0])).to.equal('question_not_covered');
    });

    it('refuses purpose_not_allowed for a covered question whose definition does not allow the consent\'s purpose', async function () {
      const screening = await consent({ purpose: 'customer_screening', questions: [ARREARS_NOW, HEADCOUNT] });
      const unknownPurpose = await consent({ purpose: 'marketing', questions: [ARREARS_NOW] });
      const size = await logSize();
      const { items } = await service().verify(bankPrincipal(), request([
        { consentId: screening, questions: [ARREARS_NOW, HEADCOUNT] },
        { consentId: unknownPurpose, questions: [ARREARS_NOW] },
      ]));
      expect(items.map(codeOf)).to.deep.equal(['purpose_not_allowed', 'purpose_not_allowed']);
      const entry = await entryAt(t.runtime.audit.log, items[0]!.audit_index);
      expect(entry).to.include({ kind: 'verification.refused', code: 'purpose_not_allowed', purpose: 'customer_screening', consent_id: screening, subject: USCC });
      expect(entry['questions']).to.deep.equal([ARREARS_NOW, HEADCOUNT]);
      expect((await uses(screening))).to.equal(0);
      // The same consent still answers the question screening may use.
      const { items: allowed } = await service().verify(bankPrincipal(), request([{ consentId: screening, questions: [ARREARS_NOW] }]));
      expect(answersOf(allowed[0])).to.deep.equal([true]);
      expect(await logSize()).to.equal(size + 3 + 2);
    });

    it('runs the checks under the consent lock: a revocation made while it is held is seen', async function () {
      const consentId = await consent();
      let release!: () => void;
      const held = t.runtime.consents.exclusive(consentId, () => new Promise<void>((resolve) => {
        release = resolve;
      }));
      const pending = service().verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await t.runtime.store.endConsent(consentId, 'revoked', new Date().toISOString());
      release();
      await held;
      expect(codeOf((await pending).items[0])).to.equal('consent_not_active');
    });
  });

  describe('evaluation', function () {
    it('answers every fixture case as policies/fixtures expects, on the evaluation date of the case', async function () {
      const fixtures = loadQuestionFixtures();
      const { registry, questions } = t.runtime;
      // One subject per case, one request per evaluation date (at most 100 items each).
      const byDate = new Map<string, { uscc: string; consentId: string; question: string; name: string; expected: { answer: Answer; stale?: boolean; data_as_of?: string } }[]>();
      let n = 0;
      for (const fixture of fixtures) {
        const question = questions.get(fixture.question);
        for (const fixtureCase of fixture.cases) {
          const uscc = usccNumber(++n);
          records.set(uscc, fixtureInput(registry, fixture, fixtureCase).records);
          const consentId = await consent({ uscc, purpose: question.purposes[0] as string, questions: [question.id] });
          const cases = byDate.get(fixtureCase.as_of) ?? [];
          cases.push({ uscc, consentId, question: question.id, name: `${fixture.question}: ${fixtureCase.name}`, expected: fixtureCase.expect });
          byDate.set(fixtureCase.as_of, cases);
        }
      }
      let checked = 0;
      for (const [asOf, cases] of byDate) {
        clock = Date.parse(`${asOf}T04:00:00Z`);
        for (let start = 0; start < cases.length; start += 100) {
          const batch = cases.slice(start, start + 100);
          const { items } = await service().verify(bankPrincipal(), request(batch.map((item) => ({ uscc: item.uscc, consentId: item.consentId, questions: [item.question] }))));
          batch.forEach((expected, index) => {
            const item = items[index];
            expect(item?.status, expected.name).to.equal('answered');
            const [answered] = item?.status === 'answered' ? item.questions : [];
            expect(answered?.answer, expected.name).to.deep.equal(expected.expected.answer);
            if (expected.expected.stale !== undefined) expect(answered?.stale, expected.name).to.equal(expected.expected.stale);
            if (expected.expected.data_as_of !== undefined) expect(answered?.data_as_of, expected.name).to.equal(expected.expected.data_as_of);
            checked += 1;
          });
        }
      }
      expect(checked).to.be.greaterThan(100);
    });

    it('evaluates on today\'s date in Asia/Shanghai, not in UTC', async function () {
      // 00:30 on 2025-06-15 in Shanghai is still 2025-06-14 in UTC: data of 2025-04-30 is 46 days old, past max_age_days 45.
      clock = Date.parse('2025-06-14T16:30:00Z');
      records.set(USCC, arrearsRecords(420_000, '2025-04-30'));
      const { items } = await service().verify(bankPrincipal(), request([{ consentId: (await consent()), questions: [ARREARS_NOW] }]));
      expect(items[0]?.status === 'answered' && items[0].questions[0]).to.include({ answer: true, data_as_of: '2025-04-30', stale: true });
    });

    it('answers unknown, never false, for a subject with no records in the question\'s datasets', async function () {
      records.set(USCC, { water_accounts: [{ values: { uscc: USCC }, asOf: '2025-06-15' }] });
      const { items } = await service().verify(bankPrincipal(), request([{ consentId: (await consent()), questions: [ARREARS_NOW, HEADCOUNT] }]));
      expect(answersOf(items[0])).to.deep.equal(['unknown', 'unknown']);
      const answered = items[0]?.status === 'answered' ? items[0].questions : [];
      for (const question of answered) expect(question).to.not.have.property('data_as_of');
    });
  });

  describe('the reuse window', function () {
    it('gives the remembered answer within the window, marked repeated, counted once, even if the records changed', async function () {
      const verifications = service({ reuseSeconds: 60 });
      const consentId = await consent();
      const first = await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]));
      records.set(USCC, arrearsRecords(0));
      clock += 59_000;
      const again = await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]));
      const [before] = first.items[0]?.status === 'answered' ? first.items[0].questions : [];
      const [after] = again.items[0]?.status === 'answered' ? again.items[0].questions : [];
      expect(after).to.deep.equal({ ...before, repeated: true });
      expect((await uses(consentId))).to.equal(1);
      // Past the window: evaluated again (the settled arrears show), and counted again.
      clock += 1_000;
      const later = await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]));
      expect(later.items[0]?.status === 'answered' && later.items[0].questions[0]).to.include({ answer: false, repeated: false });
      expect((await uses(consentId))).to.equal(2);
    });

    it('counts a question asked twice in one request once', async function () {
      const consentId = await consent();
      const { items } = await service().verify(bankPrincipal(), request([
        { consentId, questions: [ARREARS_NOW] }, { consentId, questions: [ARREARS_NOW, HEADCOUNT] },
      ]));
      expect(items.map((item) => (item.status === 'answered' ? item.questions.map((question) => question.repeated) : []))).to.deep.equal([[false], [true, false]]);
      expect((await uses(consentId))).to.equal(2);
    });

    it('remembers per consent: another consent evaluates afresh and counts its own use', async function () {
      const verifications = service();
      const first = await consent();
      const second = await consent();
      await verifications.verify(bankPrincipal(), request([{ consentId: first, questions: [ARREARS_NOW] }]));
      const { items } = await verifications.verify(bankPrincipal(), request([{ consentId: second, questions: [ARREARS_NOW] }]));
      expect(items[0]?.status === 'answered' && items[0].questions[0]?.repeated).to.equal(false);
      expect([await uses(first), await uses(second)]).to.deep.equal([1, 1]);
    });

    it('remembers nothing with GATEWAY_ANSWER_REUSE_SECONDS=0', async function () {
      const verifications = service({ reuseSeconds: 0 });
      const consentId = await consent();
      for (let n = 0; n < 3; n++) {
        const { items } = await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]));
        expect(items[0]?.status === 'answered' && items[0].questions[0]?.repeated).to.equal(false);
      }
      expect((await uses(consentId))).to.equal(3);
    });
  });

  describe('disputed records (docs/objections.md)', function () {
    async function object(datasets: readonly string[]): Promise<string> {
      const objectionId = randomUUID();
      await t.runtime.store.addObjection({
        objectionId, enterpriseId: 'enterprise-unit', uscc: USCC, subjectIndex: Buffer.alloc(32), datasets, target: '{}', reason: 'unit',
        evidence: '[]', raisedAt: new Date(clock).toISOString(), dueAt: new Date(clock + 20 * DAY * 1000).toISOString(),
        disputedSince: new Date(clock).toISOString(), auditIndex: 0,
      });
      return objectionId;
    }

    async function confirm(objectionId: string): Promise<void> {
      await t.runtime.store.resolveObjection(objectionId, { state: 'confirmed', by: 'source-unit', at: new Date(clock).toISOString(), resolution: '{}', auditIndex: 1 });
    }

    it('marks disputed, in the signed answer and its entry, exactly the answers that read a dataset under an open objection', async function () {
      const consentId = await consent();
      const objectionId = await object(['medical_insurance_arrears']);
      const result = await service().verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW, HEADCOUNT] }]));
      const item = result.items[0];
      const answered = item?.status === 'answered' ? item.questions : [];
      // medical_arrears_now reads the arrears; the headcount band reads only the payments.
      expect(answered.map((question) => [question.id, question.disputed])).to.deep.equal([[ARREARS_NOW, true], [HEADCOUNT, undefined]]);
      const entry = await entryAt(t.runtime.audit.log, (item as ItemOutcome).audit_index);
      expect((entry['questions'] as { disputed?: boolean }[]).map((question) => question.disputed)).to.deep.equal([true, undefined]);
      await confirm(objectionId);
    });

    it('marks a repeated answer as things stand now: disputed once an objection is raised, not after it is resolved', async function () {
      const verifications = service({ reuseSeconds: 3_600 });
      const consentId = await consent();
      const ask = async () => {
        const result = await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]));
        const item = result.items[0];
        return item?.status === 'answered' ? item.questions[0] : undefined;
      };
      expect(await ask()).to.not.have.property('disputed');
      const objectionId = await object(['medical_insurance_payments']);
      expect(await ask()).to.include({ repeated: true, disputed: true });
      await confirm(objectionId);
      expect(await ask()).to.include({ repeated: true }).and.not.have.property('disputed');
    });
  });

  describe('budgets', function () {
    it('refuses fresh questions the remaining uses cannot cover, counting none, and exhausts the consent at max_uses', async function () {
      const consentId = await consent({ maxUses: 2 });
      const verifications = service();
      expect(answersOf((await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]))).items[0])).to.deep.equal([true]);
      // One use left, and two questions, one of them fresh: the repeated one costs nothing, so it fits.
      const mixed = await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW, HEADCOUNT] }]));
      expect(answersOf(mixed.items[0])).to.deep.equal([true, '50_to_199']);
      expect(await t.runtime.store.getConsent(consentId)).to.include({ uses: 2, state: 'exhausted' });
      const after = await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW] }]));
      expect(codeOf(after.items[0])).to.equal('consent_not_active');
    });

    it('refuses a request for more fresh answers than are left without spending any', async function () {
      const consentId = await consent({ maxUses: 1 });
      const { items } = await service().verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW, HEADCOUNT] }]));
      expect(codeOf(items[0])).to.equal('consent_not_active');
      expect(await t.runtime.store.getConsent(consentId)).to.include({ uses: 0, state: 'active' });
    });
  });

  describe('rate limits', function () {
    it('refuses rate_limited with retry_after past the bank\'s questions per second, logging nothing, other banks unaffected', async function () {
      const verifications = service({ bankPerSecond: 3 });
      const consentId = await consent();
      const size = await logSize();
      const error = await rejection(verifications.verify(bankPrincipal(), request([
        { consentId, questions: [ARREARS_NOW, HEADCOUNT] }, { consentId, questions: [ARREARS_NOW, HEADCOUNT] },
      ])));
      expect(error.code).to.equal('rate_limited');
      expect(error.status).to.equal(429);
      expect(error.details?.['retry_after']).to.equal(1);
      expect(await logSize()).to.equal(size);
      expect((await uses(consentId))).to.equal(0);
      const theirs = await consent({ bankId: OTHER_BANK });
      const { items } = await verifications.verify(bankPrincipal(OTHER_BANK), request([{ consentId: theirs, questions: [ARREARS_NOW, HEADCOUNT] }]));
      expect(items[0]?.status).to.equal('answered');
    });

    it('refuses rate_limited past a consent\'s questions per minute, counting every item of the request under it', async function () {
      const verifications = service({ consentPerMinute: 3 });
      const consentId = await consent();
      await verifications.verify(bankPrincipal(), request([{ consentId, questions: [ARREARS_NOW, HEADCOUNT] }]));
      const error = await rejection(verifications.verify(bankPrincipal(), request([
        { consentId, questions: [ARREARS_NOW] }, { consentId, questions: [HEADCOUNT] },
      ])));
      expect(error.code).to.equal('rate_limited');
      expect(error.details?.['retry_after']).to.be.within(1, 60);
      // A different consent has its own allowance.
      const { items } = await verifications.verify(bankPrincipal(), request([{ consentId: (await consent()), questions: [ARREARS_NOW, HEADCOUNT] }]));
      expect(items[0]?.status).to.equal('answered');
    });
  });

  describe('the audit entries and the signed answer', function () {
    let result: VerificationResult;
    let principal: Principal;
    let consentId: string;

    before(async function () {
      records = stubRecords();
      records.set(USCC, arrearsRecords(420_000));
      clock = NOON_2025_06_15;
      consentId = (await consent());
      principal = bankPrincipal();
      result = await service().verify(principal, request([
        { consentId, questions: [ARREARS_NOW, HEADCOUNT] }, { consentId: randomUUID(), questions: [ARREARS_NOW] },
      ]));
    });

    it('signs one answer for the bank holding every item as returned, with the request hash', function () {
      const claims = JSON.parse(Buffer.from(result.answer.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(claims).to.include({ aud: BANK, iss: t.config.gatewayId, request_sha256: principal.requestSha256, loan_reference: 'LN-unit', officer: 'unit' });
      expect(claims['items']).to.deep.equal(JSON.parse(JSON.stringify(result.items)));
    });

    it('logs each item before the answer, and the answer\'s hash after it', async function () {
      const signed = await entryAt(t.runtime.audit.log, result.answerAuditIndex);
      expect(signed).to.include({ kind: 'verification.signed', actor: 'gateway', bank: BANK, answer_sha256: sha256Hex(result.answer), request_sha256: principal.requestSha256 });
      expect(signed['item_audit_indexes']).to.deep.equal(result.items.map((item) => item.audit_index));
      for (const item of result.items) expect(item.audit_index).to.be.lessThan(result.answerAuditIndex);
      const answered = await entryAt(t.runtime.audit.log, result.items[0]!.audit_index);
      expect(answered).to.include({ kind: 'verification.answered', actor: BANK, subject: USCC, consent_id: consentId, purpose: 'loan_approval', loan_reference: 'LN-unit' });
      expect(answered['questions']).to.deep.equal((result.items[0] as ItemOutcome & { questions: unknown }).questions);
      const unmatched = await entryAt(t.runtime.audit.log, result.items[1]!.audit_index);
      expect(unmatched).to.include({ kind: 'verification.unmatched', code: 'consent_missing' });
      expect(unmatched).to.not.have.property('subject');
    });

    it('puts no record value in the answer or the entries', function () {
      const texts = [Buffer.from(result.answer.split('.')[1] as string, 'base64url').toString('utf8'),
        ...[...result.items.map((item) => item.audit_index), result.answerAuditIndex].map((index) => JSON.stringify(entryAt(t.runtime.audit.log, index)))];
      for (const text of texts) {
        for (const value of ['420000', '987654', '"2025-03"', '"2025-05"', '示例', 'arrears_amount', 'insured_headcount']) expect(text).to.not.include(value);
      }
    });
  });
});
