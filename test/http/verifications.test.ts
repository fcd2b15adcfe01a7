// Pins POST /v1/verifications on a real gateway (127.0.0.1, port 0), asked the way a bank would: a source ingests
// medical-insurance records of two enterprises (a third has none), the enterprises consent, and the bank's answers
// are checked with nothing of the gateway's code — the JWS with jose against the published JWKS, the audit entries
// with an inclusion proof against a checkpoint. Then every refusal (revoked, expired, another bank's consent, another
// subject, a consent that does not exist — indistinguishable from another bank's —, a question not covered), the
// probing defences (no caller-chosen thresholds, the reuse window, max_uses, per-consent and per-bank rate limits), a
// 100-item screening request, the role check, and a revocation racing verifications on the same consent.
import { createHash, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { compactVerify, createLocalJWKSet } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { parseCheckpoint } from '../../gateway/audit/checkpoint.js';
import { verifyInclusion } from '../../gateway/audit/verify.js';
import { signRequest } from '../../gateway/client/client.js';
import type { GatewayClient } from '../../gateway/client/client.js';
import { openNote, parseVerifierKey } from '../../gateway/crypto/note.js';
import { generateRsaKeyPair } from '../../gateway/crypto/x509.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';
import { todayInShanghai } from '../../gateway/ingest/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { expectProblem, refusal } from '../support/problems.js';

const VERIFICATION_TYPE = 'gateway-verification+jwt';
const DATASETS = ['medical_insurance_arrears', 'medical_insurance_payments'];

/** Owes contributions now, 137 insured: arrears true, headcount 50_to_199. */
const OWING_USCC = '91350100M000100Y43';
const OWING_NAME = '泉州测试欠费机械有限公司';
const OWED_AMOUNT = '4321.09';
const OWING_CONTRIBUTION = '9876.54';
/** Settled its only arrears (amount 0), 7 insured: arrears false, headcount under_10. */
const SETTLED_USCC = '91110108722619411A';
const SETTLED_NAME = '北京测试结清科技有限公司';
const SETTLED_CONTRIBUTION = '1234.56';
/** Consents, but no source ever sent a record about it. */
const EMPTY_USCC = '91370124962235783B';

const ARREARS_NOW = 'medical_arrears_now';
const ARREARS_24M = 'medical_arrears_24m';
const HEADCOUNT = 'medical_headcount_band';
const QUESTIONS = [ARREARS_NOW, ARREARS_24M, HEADCOUNT];

/** Names of dataset fields: none may be a member of an answer or an audit entry. */
const FIELD_NAMES = ['enterprise_name', 'arrears_period', 'arrears_amount', 'contribution_month', 'insured_headcount', 'employer_contribution_amount'];

interface AnsweredQuestion {
  readonly id: string;
  readonly version: number;
  readonly definition_hash: string;
  readonly answer: boolean | string;
  readonly data_as_of?: string;
  readonly stale: boolean;
  readonly repeated: boolean;
}

interface Item {
  readonly subject: { readonly uscc: string };
  readonly consent_id: string;
  readonly status: 'answered' | 'refused';
  readonly purpose?: string;
  readonly questions?: readonly AnsweredQuestion[];
  readonly code?: string;
  readonly audit_index: number;
}

interface Asked {
  readonly answer: string;
  readonly claims: Record<string, unknown>;
  readonly items: readonly Item[];
  readonly auditIndex: number;
}

type Entry = Record<string, unknown> & { readonly kind: string; readonly actor: string; readonly subject?: string; readonly consent_id?: string };

interface ItemToAsk {
  readonly uscc: string;
  readonly consentId: string;
  readonly questions: readonly string[];
}

const sha256Hex = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const fromBase64 = (text: string) => Buffer.from(text, 'base64');

/** The month `back` months before this month in Asia/Shanghai, YYYY-MM. */
function monthsAgo(back: number): string {
  const [year, month] = todayInShanghai().split('-').map(Number) as [number, number];
  const index = year * 12 + (month - 1) - back;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** A valid USCC numbered n, for enterprises whose code does not matter. */
function usccNumber(n: number): string {
  const first17 = `91370100MA${String(n).padStart(7, '0')}`;
  return `${first17}${usccCheckCharacter(first17)}`;
}

function ndjson(rows: readonly object[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}

/** Every string and number in a JSON value, with the member names met on the way. */
function leaves(value: unknown, names: Set<string> = new Set(), found: unknown[] = []): { names: Set<string>; found: unknown[] } {
  if (Array.isArray(value)) value.forEach((item) => leaves(item, names, found));
  else if (value !== null && typeof value === 'object') {
    for (const [name, member] of Object.entries(value)) {
      names.add(name);
      leaves(member, names, found);
    }
  } else found.push(value);
  return { names, found };
}

/** No record value: no dataset field name as a member, no name or amount inside a string, no amount in fen. */
function expectNoRecordValue(value: unknown, where: string): void {
  const { names, found } = leaves(value);
  for (const field of FIELD_NAMES) expect(names.has(field), `${where} has a member "${field}"`).to.equal(false);
  const text = JSON.stringify(value);
  for (const secret of [OWING_NAME, SETTLED_NAME, OWED_AMOUNT, OWING_CONTRIBUTION, SETTLED_CONTRIBUTION]) {
    expect(text, where).to.not.include(secret);
  }
  for (const fen of [432109, 987654, 123456]) expect(found, where).to.not.include(fen);
  for (const period of [monthsAgo(1), monthsAgo(2), monthsAgo(3)]) expect(found, where).to.not.include(period);
}


/** Verifies an answer with jose alone, against the JWKS served at /.well-known/jwks.json. */
async function verifyIndependently(baseUrl: string, answer: string): Promise<{ header: Record<string, unknown>; claims: Record<string, unknown> }> {
  const keySet = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  const { payload, protectedHeader } = await compactVerify(answer, createLocalJWKSet(keySet), { algorithms: ['ES256'] });
  return { header: protectedHeader, claims: JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown> };
}

/** A gateway with two banks and an enterprise. */
interface World {
  readonly gateway: TestGateway;
  readonly bankA: EnrolledParticipant;
  readonly bankB: EnrolledParticipant;
  readonly owing: EnrolledParticipant;
  enrol(role: 'source' | 'enterprise' | 'bank' | 'auditor', options?: { uscc?: string; datasets?: string[] }): Promise<EnrolledParticipant>;
  client(participant: EnrolledParticipant): GatewayClient;
  grant(enterprise: EnrolledParticipant, bank: EnrolledParticipant, options?: GrantOptions): Promise<string>;
  ask(bank: EnrolledParticipant, items: readonly ItemToAsk[]): Promise<Asked>;
  entry(index: number): Promise<Entry>;
  consentView(bank: EnrolledParticipant, consentId: string): Promise<Record<string, unknown>>;
}

/** With a source that sent records of OWING_USCC and SETTLED_USCC, the other enterprises, and an auditor. */
interface FullWorld extends World {
  readonly source: EnrolledParticipant;
  readonly settled: EnrolledParticipant;
  readonly empty: EnrolledParticipant;
  readonly auditor: EnrolledParticipant;
}

interface GrantOptions {
  readonly purpose?: 'customer_screening' | 'pre_loan_investigation' | 'loan_approval' | 'post_loan_management';
  readonly questions?: readonly string[];
  readonly maxUses?: number;
  readonly days?: number;
  readonly now?: Date;
}

/** Made once per test process, like the CA in test/support/runtime.ts: an RSA key takes ~0.4 s to generate. */
let sharedKey: { privateKeyPem: string; publicKeyPem: string } | undefined;

/**
 * Registers participant number `n`. All participants share one key: the gateway tells them apart by their
 * certificates (one each) and the ids and thumbprints in their signatures, not by their keys.
 */
async function enrolIn(gateway: TestGateway, n: number, role: 'source' | 'enterprise' | 'bank' | 'auditor', options: { uscc?: string; datasets?: string[] } = {}): Promise<EnrolledParticipant> {
  sharedKey ??= generateRsaKeyPair();
  const record = await gateway.runtime.participants.add({
    participantId: `verify-${role}-${n}`, role, name: `Test ${role}`, uscc: options.uscc,
    datasets: options.datasets, publicKeyPem: sharedKey.publicKeyPem, certificateDays: 30,
  });
  return { record, credentials: { participantId: record.participantId, privateKeyPem: sharedKey.privateKeyPem, certificatePem: record.certificatePem } };
}

async function openWorld(env: Record<string, string> = {}): Promise<World> {
  // Checkpoints only when a test asks for one, so that the log grows only by what the tests do.
  const gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000', ...env });
  const clients = new Map<EnrolledParticipant, GatewayClient>();
  const client = (participant: EnrolledParticipant): GatewayClient => {
    let found = clients.get(participant);
    if (!found) clients.set(participant, found = gateway.client(participant));
    return found;
  };
  let enrolled = 0;
  const enrol: World['enrol'] = (role, options) => enrolIn(gateway, ++enrolled, role, options);
  const [bankA, bankB, owing] = await Promise.all([enrol('bank'), enrol('bank'), enrol('enterprise', { uscc: OWING_USCC })]);
  return {
    gateway, bankA, bankB, owing, enrol, client,
    async grant(enterprise, bank, options = {}) {
      const granted = await client(enterprise).grantConsent({
        uscc: enterprise.record.uscc as string, bank: bank.record.participantId, purpose: options.purpose ?? 'loan_approval',
        questions: options.questions ?? QUESTIONS, days: options.days ?? 30, maxUses: options.maxUses, now: options.now,
      });
      return String(granted.consent['consent_id']);
    },
    async ask(bank, items) {
      const result = await client(bank).askQuestions({ loanReference: 'LN-2025-000417', officer: '信贷员 王芳', items });
      return {
        answer: result.answer, claims: result.verified.claims, items: result.verified.claims['items'] as Item[],
        auditIndex: result.auditIndex as number,
      };
    },
    async entry(index) {
      // Read in-process: a read over HTTP would itself add an entry.
      const [stored] = (await gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 }));
      expect(stored, `audit entry ${index}`).to.not.equal(undefined);
      return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Entry;
    },
    async consentView(bank, consentId) {
      return (await client(bank).send('GET', `/v1/consents/${consentId}`)).json<Record<string, unknown>>();
    },
  };
}

async function openFullWorld(env: Record<string, string> = {}): Promise<FullWorld> {
  const world = await openWorld(env);
  const [source, settled, empty, auditor] = await Promise.all([
    world.enrol('source', { datasets: DATASETS }),
    world.enrol('enterprise', { uscc: SETTLED_USCC }),
    world.enrol('enterprise', { uscc: EMPTY_USCC }),
    world.enrol('auditor'),
  ]);
  // as_of defaults to today in Asia/Shanghai, the evaluation date, so nothing is stale.
  await world.client(source).ingest('medical_insurance_arrears', ndjson([
    { enterprise_name: OWING_NAME, uscc: OWING_USCC, arrears_period: monthsAgo(3), arrears_amount: OWED_AMOUNT },
    { enterprise_name: SETTLED_NAME, uscc: SETTLED_USCC, arrears_period: monthsAgo(3), arrears_amount: '0.00' },
  ]), { format: 'ndjson' });
  await world.client(source).ingest('medical_insurance_payments', ndjson([
    { enterprise_name: OWING_NAME, uscc: OWING_USCC, contribution_month: monthsAgo(2), insured_headcount: 137, employer_contribution_amount: OWING_CONTRIBUTION },
    { enterprise_name: OWING_NAME, uscc: OWING_USCC, contribution_month: monthsAgo(1), insured_headcount: 137, employer_contribution_amount: OWING_CONTRIBUTION },
    { enterprise_name: SETTLED_NAME, uscc: SETTLED_USCC, contribution_month: monthsAgo(1), insured_headcount: 7, employer_contribution_amount: SETTLED_CONTRIBUTION },
  ]), { format: 'ndjson' });
  return { ...world, source, settled, empty, auditor };
}

/**
 * Asserts the item was refused consent_missing, and that it is recorded in the request's one verification.unmatched
 * entry, which names what was asked but is about no subject.
 */
async function expectUnmatched(world: World, bank: EnrolledParticipant, item: Item | undefined, asked: ItemToAsk): Promise<Entry> {
  expect(item, 'the item').to.not.equal(undefined);
  expect(item).to.deep.equal({ subject: { uscc: asked.uscc }, consent_id: asked.consentId, status: 'refused', code: 'consent_missing', audit_index: item!.audit_index });
  const entry = await world.entry(item!.audit_index);
  expect(entry).to.include({ kind: 'verification.unmatched', actor: bank.record.participantId, code: 'consent_missing' });
  expect(entry).to.not.have.property('subject');
  expect(entry).to.not.have.property('consent_id');
  expect(entry['items']).to.deep.include({ uscc: asked.uscc, consent_id: asked.consentId, questions: asked.questions.length });
  return entry;
}

/** Asserts the item was refused with `code`, and that its audit entry says so about the subject asked about. */
async function expectRefused(world: World, bank: EnrolledParticipant, item: Item | undefined, code: string, asked: ItemToAsk): Promise<Entry> {
  expect(item, 'the item').to.not.equal(undefined);
  expect(item).to.deep.equal({ subject: { uscc: asked.uscc }, consent_id: asked.consentId, status: 'refused', code, audit_index: item!.audit_index });
  const entry = await world.entry(item!.audit_index);
  expect(entry).to.include({ kind: 'verification.refused', actor: bank.record.participantId, subject: asked.uscc, consent_id: asked.consentId, code });
  expect(entry['questions']).to.deep.equal(asked.questions);
  return entry;
}

describe('POST /v1/verifications under the gm (国密) crypto profile', function () {
  this.timeout(60_000);
  let world: FullWorld;
  before(async function () {
    world = await openFullWorld({ GATEWAY_CRYPTO_PROFILE: 'gm' });
  });
  after(async function () {
    await world?.gateway.stop();
  });

  it('answers from records sealed with SM4-GCM, logs the answer and proves its inclusion under a checkpoint', async function () {
    const sealed = await world.gateway.runtime.store.scanSealed(0, 100);
    expect(sealed.length).to.be.greaterThan(0);
    expect(new Set(sealed.map((row) => row.sealed[0]))).to.deep.equal(new Set([0x02]));
    const consentId = await world.grant(world.owing, world.bankA);
    const asked = await world.ask(world.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW, HEADCOUNT] }]);
    expect(asked.items[0]?.questions?.map((question) => [question.id, question.answer])).to.deep.equal([[ARREARS_NOW, true], [HEADCOUNT, '50_to_199']]);
    expect(await world.entry(asked.auditIndex)).to.include({ kind: 'verification.signed', answer_sha256: sha256Hex(asked.answer) });
    await world.gateway.runtime.audit.checkpointer.checkpointNow();
    const size = await world.gateway.runtime.audit.log.size();
    const index = asked.items[0]!.audit_index;
    const proof = (await world.client(world.auditor).send('GET', `/v1/audit/proofs/inclusion?index=${index}&tree_size=${size}`))
      .json<{ leaf_hash: string; proof: string[]; root_hash: string }>();
    verifyInclusion(BigInt(index), BigInt(size), fromBase64(proof.leaf_hash), proof.proof.map(fromBase64), fromBase64(proof.root_hash));
  });
});

describe('POST /v1/verifications', function () {
  this.timeout(60_000);
  let world: FullWorld;
  let today: string;

  before(async function () {
    world = await openFullWorld();
    today = todayInShanghai();
  });

  after(async function () {
    await world?.gateway.stop();
  });

  describe('asked by a bank under a consent', function () {
    let consentId: string;
    let token: string;
    let answer: string;
    let items: Item[];
    let signedIndex: number;
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;

    before(async function () {
      consentId = await world.grant(world.owing, world.bankA);
      // Signed here rather than by the typed client, to know the exact Authorization token the gateway hashed.
      const body = Buffer.from(JSON.stringify({
        loan_reference: 'LN-2025-000417', officer: '信贷员 王芳',
        items: [{ subject: { uscc: OWING_USCC }, consent_id: consentId, questions: QUESTIONS }],
      }), 'utf8');
      token = await signRequest(world.bankA.credentials, { method: 'POST', path: '/v1/verifications', body, audience: world.gateway.config.gatewayId });
      const response = await fetch(`${world.gateway.url}/v1/verifications`, {
        method: 'POST', body, headers: { authorization: `JWS ${token}`, 'content-type': 'application/json' },
      });
      expect(response.status, await response.clone().text()).to.equal(200);
      signedIndex = Number(response.headers.get('audit-index'));
      ({ answer, items } = (await response.json()) as { answer: string; items: Item[] });
      ({ header, claims } = await verifyIndependently(world.gateway.url, answer));
    });

    it('answers one compact JWS that verifies with jose against the JWKS, typ gateway-verification+jwt, ES256', function () {
      expect(answer.split('.')).to.have.length(3);
      expect(header).to.include({ typ: VERIFICATION_TYPE, alg: 'ES256' });
      expect(header['kid']).to.be.a('string');
    });

    it('is issued by the gateway to the bank, with iat, exp and jti, for the SHA-256 of the bank\'s signed request', function () {
      const now = Math.floor(Date.now() / 1000);
      expect(claims).to.include({
        iss: world.gateway.config.gatewayId, aud: world.bankA.record.participantId, request_sha256: sha256Hex(token),
        loan_reference: 'LN-2025-000417', officer: '信贷员 王芳',
      });
      expect(claims['iat']).to.be.a('number').within(now - 60, now + 1);
      expect(claims['exp']).to.be.a('number').greaterThan(claims['iat'] as number);
      expect(claims['jti']).to.be.a('string').and.not.equal('');
    });

    it('answers each question with its id, version, definition hash from the catalog, answer and data date', function () {
      expect(claims['items']).to.deep.equal(items);
      expect(items).to.have.length(1);
      const [item] = items as [Item];
      expect(item).to.include({ consent_id: consentId, status: 'answered', purpose: 'loan_approval' });
      expect(item.subject).to.deep.equal({ uscc: OWING_USCC });
      const catalog = world.gateway.runtime.questions;
      expect(item.questions).to.deep.equal([
        { id: ARREARS_NOW, answer: true },
        { id: ARREARS_24M, answer: true },
        { id: HEADCOUNT, answer: '50_to_199' },
      ].map(({ id, answer: expected }) => ({
        id, version: catalog.get(id).version, definition_hash: catalog.definitionHash(id), answer: expected,
        data_as_of: today, stale: false, repeated: false,
      })));
    });

    it('logs the item as verification.answered, with the loan reference and officer, at its audit_index', async function () {
      const entry = await world.entry((items[0] as Item).audit_index);
      expect(entry).to.include({
        kind: 'verification.answered', actor: world.bankA.record.participantId, subject: OWING_USCC, consent_id: consentId,
        purpose: 'loan_approval', loan_reference: 'LN-2025-000417', officer: '信贷员 王芳', request_sha256: sha256Hex(token),
      });
      expect((entry['questions'] as AnsweredQuestion[]).map((question) => [question.id, question.answer])).to.deep.equal([
        [ARREARS_NOW, true], [ARREARS_24M, true], [HEADCOUNT, '50_to_199'],
      ]);
    });

    it('logs verification.signed with the SHA-256 of the answer JWS at the Audit-Index header', async function () {
      const entry = await world.entry(signedIndex);
      expect(entry).to.include({
        kind: 'verification.signed', actor: 'gateway', bank: world.bankA.record.participantId, answer_sha256: sha256Hex(answer),
        request_sha256: sha256Hex(token),
      });
      expect(entry['item_audit_indexes']).to.deep.equal([(items[0] as Item).audit_index]);
      expect(signedIndex).to.be.greaterThan((items[0] as Item).audit_index);
    });

    it('proves the answered entry\'s inclusion, to an auditor, under a signed checkpoint', async function () {
      const auditor = world.auditor;
      await world.gateway.runtime.audit.checkpointer.checkpointNow();
      const noteKey = (await (await fetch(`${world.gateway.url}/v1/audit/note-key`)).text()).trimEnd();
      const note = (await world.client(auditor).send('GET', '/v1/audit/checkpoint')).body;
      const checkpoint = parseCheckpoint(openNote(note, [parseVerifierKey(noteKey)]).text);
      const index = (items[0] as Item).audit_index;
      expect(Number(checkpoint.size)).to.be.greaterThan(signedIndex);
      const proof = (await world.client(auditor).send('GET', `/v1/audit/proofs/inclusion?index=${index}&tree_size=${Number(checkpoint.size)}`))
        .json<{ proof: string[]; root_hash: string }>();
      const [stored] = await world.gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
      const leaf = createHash('sha256').update(Uint8Array.of(0)).update(stored!.entry).digest();
      verifyInclusion(BigInt(index), BigInt(Number(checkpoint.size)), leaf, proof.proof.map(fromBase64), checkpoint.rootHash);
      expect(fromBase64(proof.root_hash).equals(checkpoint.rootHash)).to.equal(true);
    });

    it('shows the enterprise the access under its consent, with an inclusion proof it may fetch itself', async function () {
      const accesses = (await world.client(world.owing).send('GET', `/v1/consents/${consentId}/accesses`))
        .json<{ entries: { index: number; kind: string }[] }>();
      const index = (items[0] as Item).audit_index;
      expect(accesses.entries.map((entry) => [entry.index, entry.kind])).to.deep.include([index, 'verification.answered']);
      const size = await world.gateway.runtime.audit.log.size();
      const proof = (await world.client(world.owing).send('GET', `/v1/audit/proofs/inclusion?index=${index}&tree_size=${size}`))
        .json<{ leaf_hash: string; proof: string[]; root_hash: string }>();
      verifyInclusion(BigInt(index), BigInt(size), fromBase64(proof.leaf_hash), proof.proof.map(fromBase64), fromBase64(proof.root_hash));
    });

    it('puts no record value in the answer, the response or any audit entry', async function () {
      expectNoRecordValue(claims, 'the answer');
      expectNoRecordValue(items, 'the response');
      const size = await world.gateway.runtime.audit.log.size();
      for (let index = 0; index < size; index++) expectNoRecordValue(await world.entry(index), `audit entry ${index}`);
    });

    it('is what the typed client\'s askQuestions returns, verified', async function () {
      const asked = await world.ask(world.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }]);
      expect(asked.claims['aud']).to.equal(world.bankA.record.participantId);
      expect(asked.items[0]?.questions?.[0]).to.include({ id: ARREARS_NOW, answer: true, repeated: true });
      expect(await world.entry(asked.auditIndex)).to.include({ kind: 'verification.signed', answer_sha256: sha256Hex(asked.answer) });
    });
  });

  describe('about an enterprise whose data says no', function () {
    it('answers false and the lowest band, not unknown', async function () {
      const consentId = await world.grant(world.settled, world.bankA, { questions: [ARREARS_NOW, HEADCOUNT] });
      const { items } = await world.ask(world.bankA, [{ uscc: SETTLED_USCC, consentId, questions: [ARREARS_NOW, HEADCOUNT] }]);
      expect(items[0]?.questions?.map((question) => [question.answer, question.data_as_of])).to.deep.equal([[false, today], ['under_10', today]]);
    });
  });

  describe('about a consenting enterprise with no records', function () {
    it('answers unknown to every question, with no data date', async function () {
      const consentId = await world.grant(world.empty, world.bankA);
      const { items } = await world.ask(world.bankA, [{ uscc: EMPTY_USCC, consentId, questions: QUESTIONS }]);
      expect(items[0]?.status).to.equal('answered');
      for (const question of items[0]?.questions ?? []) {
        expect(question).to.include({ answer: 'unknown', stale: false, repeated: false });
        expect(question).to.not.have.property('data_as_of');
      }
      expect(items[0]?.questions).to.have.length(3);
    });
  });

  describe('refusals', function () {
    it('refuses consent_not_active after the enterprise revoked the consent, logged after the revocation', async function () {
      const consentId = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW] });
      const asked = { uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] };
      expect((await world.ask(world.bankA, [asked])).items[0]?.status).to.equal('answered');
      const revoked = await world.client(world.owing).revokeConsent(consentId);
      const { items } = await world.ask(world.bankA, [asked]);
      const entry = (await expectRefused(world, world.bankA, items[0], 'consent_not_active', asked));
      expect(entry['purpose']).to.equal('loan_approval');
      expect(items[0]!.audit_index).to.be.greaterThan(revoked.verified.claims['audit_index'] as number);
    });

    it('refuses consent_not_active once the consent expired', async function () {
      this.timeout(10_000);
      // Signed a minute ago (within its certificate's validity, which starts five minutes before issue) for 62 seconds:
      // it expires two seconds from now.
      const signedAt = Math.floor(Date.now() / 1000) - 60;
      const exp = signedAt + 62;
      const days = 62 / 86_400;
      expect(signedAt + days * 86_400).to.equal(exp);
      const consentId = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW], days, now: new Date(signedAt * 1000) });
      const asked = { uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] };
      expect((await world.ask(world.bankA, [asked])).items[0]?.status).to.equal('answered');
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 50));
      expect((await world.consentView(world.bankA, consentId))['state']).to.equal('expired');
      await expectRefused(world, world.bankA, (await world.ask(world.bankA, [asked])).items[0], 'consent_not_active', asked);
    });

    describe('without a consent of its own for the subject', function () {
      let consentId: string;
      let otherBank: Asked;
      let nonexistent: Asked;
      const placeholders = (asked: Asked) => JSON.stringify(asked.items, (key, value: unknown) =>
        (key === 'audit_index' ? 0 : key === 'consent_id' ? 'C' : key === 'uscc' ? 'U' : value));

      before(async function () {
        consentId = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW] });
        otherBank = await world.ask(world.bankB, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }]);
        nonexistent = await world.ask(world.bankB, [{ uscc: OWING_USCC, consentId: randomUUID(), questions: [ARREARS_NOW] }]);
      });

      it('refuses consent_missing when another bank asks under the consent', async function () {
        await expectUnmatched(world, world.bankB, otherBank.items[0], { uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] });
      });

      it('refuses consent_missing for a consent that does not exist', async function () {
        const item = nonexistent.items[0] as Item;
        await expectUnmatched(world, world.bankB, item, { uscc: OWING_USCC, consentId: item.consent_id, questions: [ARREARS_NOW] });
      });

      it('answers both the same way, so the bank cannot tell whether anything exists', async function () {
        expect(placeholders(nonexistent)).to.equal(placeholders(otherBank));
        const shape = async (index: number) => Object.keys(await world.entry(index)).sort();
        expect(await shape(nonexistent.items[0]!.audit_index)).to.deep.equal(await shape(otherBank.items[0]!.audit_index));
        // And a subject the gateway holds nothing about gets the very same refusal.
        const empty = await world.ask(world.bankB, [{ uscc: EMPTY_USCC, consentId: randomUUID(), questions: [ARREARS_NOW] }]);
        expect(placeholders(empty)).to.equal(placeholders(otherBank));
        // In one request, an existing consent of another bank and a made-up id share one entry: no index tells them apart.
        const mixed = await world.ask(world.bankB, [
          { uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] },
          { uscc: OWING_USCC, consentId: randomUUID(), questions: [ARREARS_NOW] },
        ]);
        expect(mixed.items[0]!.audit_index).to.equal(mixed.items[1]!.audit_index);
      });

      it('keeps them out of the enterprise\'s view (they are about no one), and shows them to an auditor', async function () {
        const page = (await world.client(world.owing).send('GET', '/v1/audit/entries?limit=1000'))
          .json<{ entries: { index: number; entry: string }[] }>();
        for (const asked of [otherBank, nonexistent]) {
          expect(page.entries.map((found) => found.index)).to.not.include(asked.items[0]!.audit_index);
        }
        const audited = (await world.client(world.auditor).send('GET', `/v1/audit/entries?kind=verification.unmatched&participant=${world.bankB.record.participantId}`))
          .json<{ entries: { index: number; entry: string }[] }>();
        expect(audited.entries.map((found) => found.index)).to.include.members([otherBank.items[0]!.audit_index, nonexistent.items[0]!.audit_index]);
      });

      it('refuses consent_missing when the subject is not the consent\'s', async function () {
        const asked = { uscc: SETTLED_USCC, consentId, questions: [ARREARS_NOW] };
        const { items } = await world.ask(world.bankA, [asked]);
        await expectUnmatched(world, world.bankA, items[0], asked);
      });

      it('does not reveal the state of another bank\'s consent: revoked, it is still consent_missing', async function () {
        const revokedId = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW] });
        await world.client(world.owing).revokeConsent(revokedId);
        const asked = { uscc: OWING_USCC, consentId: revokedId, questions: [ARREARS_NOW] };
        await expectUnmatched(world, world.bankB, (await world.ask(world.bankB, [asked])).items[0], asked);
      });

      it('answers while the consent\'s lock is held: a bank naming another bank\'s consent neither waits for it nor delays it', async function () {
        const held = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW] });
        let release!: () => void;
        const holding = world.gateway.runtime.consents.exclusive(held, () => new Promise<void>((resolve) => {
          release = resolve;
        }));
        try {
          // Were the lock taken before the consent is found to be bank B's, this would wait until release().
          const { items } = await world.ask(world.bankB, [{ uscc: OWING_USCC, consentId: held, questions: [ARREARS_NOW] }]);
          expect(items[0]?.code).to.equal('consent_missing');
        } finally {
          release();
          await holding;
        }
      });
    });

    it('refuses question_not_covered for a question the consent does not name, even one not in the catalog', async function () {
      const consentId = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW] });
      for (const questions of [[HEADCOUNT], [ARREARS_NOW, HEADCOUNT], ['no_such_question']]) {
        const asked = { uscc: OWING_USCC, consentId, questions };
        await expectRefused(world, world.bankA, (await world.ask(world.bankA, [asked])).items[0], 'question_not_covered', asked);
      }
      expect((await world.consentView(world.bankA, consentId))['uses']).to.equal(0);
    });

    it('answers under a screening consent with its purpose, and a screening consent cannot name a question screening may not use', async function () {
      const consentId = await world.grant(world.owing, world.bankA, { purpose: 'customer_screening', questions: [ARREARS_NOW] });
      const { items } = await world.ask(world.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }]);
      expect(items[0]).to.include({ status: 'answered', purpose: 'customer_screening' });
      // purpose_not_allowed at verification time is pinned by test/verification/verifications.test.ts.
      const error = await refusal(world.grant(world.owing, world.bankA, { purpose: 'customer_screening', questions: [HEADCOUNT] }));
      expectProblem(error, 422, 'purpose_not_allowed');
    });

    it('answers and refuses items of one request independently', async function () {
      const consentId = await world.grant(world.settled, world.bankA, { questions: [ARREARS_NOW] });
      const { items } = await world.ask(world.bankA, [
        { uscc: SETTLED_USCC, consentId, questions: [ARREARS_NOW] },
        { uscc: SETTLED_USCC, consentId, questions: [HEADCOUNT] },
        { uscc: OWING_USCC, consentId: randomUUID(), questions: [ARREARS_NOW] },
      ]);
      expect(items.map((item) => item.code ?? item.status)).to.deep.equal(['answered', 'question_not_covered', 'consent_missing']);
    });
  });

  describe('probing', function () {
    it('refuses a request with a member of the caller\'s choosing (a threshold, a window) with 400 invalid_argument', async function () {
      const consentId = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW] });
      const item = { subject: { uscc: OWING_USCC }, consent_id: consentId, questions: [ARREARS_NOW] };
      const bodies = [
        { loan_reference: 'L', officer: 'O', items: [{ ...item, threshold: 100 }] },
        { loan_reference: 'L', officer: 'O', items: [item], window: { months: 1 } },
        { loan_reference: 'L', officer: 'O', items: [{ ...item, subject: { uscc: OWING_USCC, name: OWING_NAME } }] },
        { loan_reference: 'L', officer: 'O', items: [{ ...item, questions: [ARREARS_NOW, ARREARS_NOW] }] },
        { loan_reference: 'L', officer: 'O', items: [{ ...item, questions: [{ id: ARREARS_NOW, parameters: { window_months: 1 } }] }] },
      ];
      const size = await world.gateway.runtime.audit.log.size();
      for (const body of bodies) {
        const error = await refusal(world.client(world.bankA).send('POST', '/v1/verifications', {
          body: JSON.stringify(body), headers: { 'content-type': 'application/json' },
        }));
        expectProblem(error, 400, 'invalid_argument');
      }
      expect(await world.gateway.runtime.audit.log.size(), 'nothing asked, nothing logged').to.equal(size);
      expect((await world.consentView(world.bankA, consentId))['uses']).to.equal(0);
    });

    it('answers the same question again within the reuse window with the same answer, repeated, counted once', async function () {
      const consentId = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW, HEADCOUNT] });
      const first = await world.ask(world.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }]);
      const again = await world.ask(world.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }]);
      const [before] = first.items[0]?.questions ?? [];
      const [after] = again.items[0]?.questions ?? [];
      expect(before?.repeated).to.equal(false);
      expect(after).to.deep.equal({ ...before, repeated: true });
      expect((await world.consentView(world.bankA, consentId))['uses']).to.equal(1);
      expect(await world.entry(again.items[0]!.audit_index)).to.include({ kind: 'verification.answered' });

      const both = await world.ask(world.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW, HEADCOUNT] }]);
      expect(both.items[0]?.questions?.map((question) => question.repeated)).to.deep.equal([true, false]);
      expect((await world.consentView(world.bankA, consentId))['uses']).to.equal(2);
    });

    it('exhausts a consent at max_uses: later questions, repeated ones included, are consent_not_active', async function () {
      const consentId = await world.grant(world.owing, world.bankA, { questions: QUESTIONS, maxUses: 2 });
      const ask = (questions: string[]) => world.ask(world.bankA, [{ uscc: OWING_USCC, consentId, questions }]);
      expect((await ask([ARREARS_NOW])).items[0]?.status).to.equal('answered');
      expect((await ask([ARREARS_24M])).items[0]?.status).to.equal('answered');
      const view = await world.consentView(world.bankA, consentId);
      expect(view).to.include({ uses: 2, max_uses: 2, state: 'exhausted' });
      for (const questions of [[HEADCOUNT], [ARREARS_NOW]]) {
        await expectRefused(world, world.bankA, (await ask(questions)).items[0], 'consent_not_active', { uscc: OWING_USCC, consentId, questions });
      }
      expect((await world.consentView(world.bankA, consentId))['uses']).to.equal(2);
    });

    it('refuses a batch of fresh questions the remaining budget cannot cover, counting none of them', async function () {
      const consentId = await world.grant(world.owing, world.bankA, { questions: QUESTIONS, maxUses: 2 });
      const asked = { uscc: OWING_USCC, consentId, questions: QUESTIONS };
      await expectRefused(world, world.bankA, (await world.ask(world.bankA, [asked])).items[0], 'consent_not_active', asked);
      expect(await world.consentView(world.bankA, consentId)).to.include({ uses: 0, state: 'active' });
    });
  });

  describe('rate limits', function () {
    describe('per consent (GATEWAY_CONSENT_QUESTIONS_PER_MINUTE=3)', function () {
      let limited: World;

      before(async function () {
        limited = await openWorld({ GATEWAY_CONSENT_QUESTIONS_PER_MINUTE: '3' });
      });

      after(async function () {
        await limited?.gateway.stop();
      });

      it('answers 429 rate_limited with Retry-After to the 4th question on one consent within a minute', async function () {
        const consentId = await limited.grant(limited.owing, limited.bankA);
        for (const question of QUESTIONS) {
          expect((await limited.ask(limited.bankA, [{ uscc: OWING_USCC, consentId, questions: [question] }])).items[0]?.status).to.equal('answered');
        }
        const size = await limited.gateway.runtime.audit.log.size();
        const error = await refusal(limited.ask(limited.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }]));
        expectProblem(error, 429, 'rate_limited');
        const retryAfter = Number(await retryAfterOf(limited, limited.bankA, consentId));
        expect(retryAfter).to.be.within(1, 60);
        expect(await limited.gateway.runtime.audit.log.size(), 'a rate-limited request is not an access').to.equal(size);

        // Another consent of the same bank is not limited by this one.
        const other = await limited.grant(limited.owing, limited.bankA);
        expect((await limited.ask(limited.bankA, [{ uscc: OWING_USCC, consentId: other, questions: [ARREARS_NOW] }])).items[0]?.status).to.equal('answered');
      });

      it('does not let another bank spend the per-consent limit of a consent that is not its own', async function () {
        const consentId = await limited.grant(limited.owing, limited.bankA, { questions: [ARREARS_NOW] });
        for (let attempt = 0; attempt < 3; attempt++) {
          const { items } = await limited.ask(limited.bankB, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }]);
          expect(items[0]?.code).to.equal('consent_missing');
        }
        const { items } = await limited.ask(limited.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }]);
        expect(items[0]?.status).to.equal('answered');
      });
    });

    describe('against audit flooding (GATEWAY_BANK_REFUSALS_PER_MINUTE=150)', function () {
      // The attack: 100-item requests naming random consent ids and a victim's USCC, to fill the log with entries
      // about the victim. Now such items cost the bank against a small budget and make one entry per request,
      // about no one.
      let flooded: World;
      const randomItems = (count: number) => Array.from({ length: count }, () => ({ uscc: OWING_USCC, consentId: randomUUID(), questions: [ARREARS_NOW] }));

      before(async function () {
        flooded = await openWorld({ GATEWAY_BANK_REFUSALS_PER_MINUTE: '150' });
      });

      after(async function () {
        await flooded?.gateway.stop();
      });

      it('records a 100-item request of made-up consent ids as one verification.unmatched entry, plus the signed answer', async function () {
        const size = await flooded.gateway.runtime.audit.log.size();
        const asked = await flooded.ask(flooded.bankA, randomItems(100));
        expect(asked.items.every((item) => item.code === 'consent_missing')).to.equal(true);
        expect(new Set(asked.items.map((item) => item.audit_index)).size).to.equal(1);
        expect(await flooded.gateway.runtime.audit.log.size()).to.equal(size + 2);
        expect((await flooded.entry(asked.items[0]!.audit_index))['items']).to.have.length(100);
      });

      it('answers 429 rate_limited once the refusals would pass the budget, recording nothing', async function () {
        const size = await flooded.gateway.runtime.audit.log.size();
        const error = await refusal(flooded.ask(flooded.bankA, randomItems(51)));
        expectProblem(error, 429, 'rate_limited');
        expect(String(error.problem['detail'])).to.match(/refused items/);
        expect(await flooded.gateway.runtime.audit.log.size()).to.equal(size);
      });

      it('still answers the bank under its own consents (questions have their own, larger budget)', async function () {
        const consentId = await flooded.grant(flooded.owing, flooded.bankA, { questions: [ARREARS_NOW] });
        expect((await flooded.ask(flooded.bankA, [{ uscc: OWING_USCC, consentId, questions: [ARREARS_NOW] }])).items[0]?.status).to.equal('answered');
      });

      it('leaves the victim\'s view of the accesses about it free of the flood', async function () {
        const page = (await flooded.client(flooded.owing).send('GET', '/v1/audit/entries?limit=1000'))
          .json<{ entries: { index: number; entry: string }[] }>();
        const kinds = page.entries.map((found) => (JSON.parse(found.entry) as Entry).kind);
        expect(kinds.filter((kind) => kind.startsWith('verification.'))).to.deep.equal(['verification.answered']);
      });

      it('counts refusals under the bank\'s own consents against the same budget', async function () {
        const consentId = await flooded.grant(flooded.owing, flooded.bankB, { questions: [ARREARS_NOW] });
        const uncovered = Array.from({ length: 100 }, () => ({ uscc: OWING_USCC, consentId, questions: [HEADCOUNT] }));
        const asked = await flooded.ask(flooded.bankB, uncovered);
        expect(asked.items.every((item) => item.code === 'question_not_covered')).to.equal(true);
        // 100 refused already: 51 more would pass 150.
        expectProblem(await refusal(flooded.ask(flooded.bankB, randomItems(51))), 429, 'rate_limited');
      });
    });

    it('answers 429 rate_limited with Retry-After past the bank\'s questions per second (GATEWAY_BANK_QUESTIONS_PER_SECOND=2), other banks unaffected', async function () {
      const perBank = await openWorld({ GATEWAY_BANK_QUESTIONS_PER_SECOND: '2' });
      try {
        const consentA = await perBank.grant(perBank.owing, perBank.bankA);
        const consentB = await perBank.grant(perBank.owing, perBank.bankB);
        // Three questions at once are more than the bank may ask in any second.
        const error = await refusal(perBank.ask(perBank.bankA, [{ uscc: OWING_USCC, consentId: consentA, questions: QUESTIONS }]));
        expectProblem(error, 429, 'rate_limited');
        expect(await retryAfterOf(perBank, perBank.bankA, consentA)).to.equal('1');
        expect((await perBank.ask(perBank.bankB, [{ uscc: OWING_USCC, consentId: consentB, questions: [ARREARS_NOW, HEADCOUNT] }])).items[0]?.status)
          .to.equal('answered');
        // A second later the bank may ask again.
        await new Promise((resolve) => setTimeout(resolve, 1100));
        expect((await perBank.ask(perBank.bankA, [{ uscc: OWING_USCC, consentId: consentA, questions: [ARREARS_NOW] }])).items[0]?.status)
          .to.equal('answered');
      } finally {
        await perBank.gateway.stop();
      }
    });
  });

  describe('screening many applicants in one request', function () {
    const ENTERPRISES = 10;
    let applicants: { enterprise: EnrolledParticipant; consentId: string; owes: boolean | 'unknown' }[];

    before(async function () {
      const enterprises = await Promise.all(Array.from({ length: ENTERPRISES }, (_, n) => world.enrol('enterprise', { uscc: usccNumber(n + 1) })));
      const source = world.source;
      // The first four owe, the next three settled, the last three have no records.
      const owes = (n: number): boolean | 'unknown' => (n < 4 ? true : n < 7 ? false : 'unknown');
      await world.client(source).ingest('medical_insurance_arrears', ndjson(enterprises.slice(0, 7).map((enterprise, n) => ({
        enterprise_name: OWING_NAME, uscc: enterprise.record.uscc, arrears_period: monthsAgo(2), arrears_amount: owes(n) === true ? OWED_AMOUNT : '0.00',
      }))), { format: 'ndjson' });
      applicants = await Promise.all(enterprises.map(async (enterprise, n) => ({
        enterprise, owes: owes(n),
        consentId: await world.grant(enterprise, world.bankA, { purpose: 'customer_screening', questions: [ARREARS_NOW] }),
      })));
    });

    it('answers 100 items in one signed answer, each item once in the audit log, each consent counted once', async function () {
      const items = Array.from({ length: 100 }, (_, n) => {
        const applicant = applicants[n % ENTERPRISES]!;
        return { uscc: applicant.enterprise.record.uscc as string, consentId: applicant.consentId, questions: [ARREARS_NOW] };
      });
      const asked = await world.ask(world.bankA, items);
      expect(asked.items).to.have.length(100);
      asked.items.forEach((item, n) => {
        const applicant = applicants[n % ENTERPRISES]!;
        expect(item).to.include({ status: 'answered', consent_id: applicant.consentId });
        expect(item.questions?.[0]).to.include({ answer: applicant.owes, repeated: n >= ENTERPRISES });
      });
      const signed = await world.entry(asked.auditIndex);
      expect(signed['item_audit_indexes']).to.deep.equal(asked.items.map((item) => item.audit_index));
      expect(new Set(asked.items.map((item) => item.audit_index)).size).to.equal(100);
      for (const item of asked.items) expect(await world.entry(item.audit_index)).to.include({ kind: 'verification.answered', consent_id: item.consent_id });
      for (const applicant of applicants) expect((await world.consentView(world.bankA, applicant.consentId))['uses']).to.equal(1);
    });

    for (const [field, why, value] of [
      ['officer', 'a right-to-left override (U+202E)', 'Wang\u202eFang'],
      ['officer', 'a first-strong isolate (U+2068)', '\u2068王芳'],
      ['loan_reference', 'a line separator (U+2028)', 'LN-1\u2028LN-2'],
      ['loan_reference', 'a C1 control (U+0085)', 'LN-1\u0085'],
      ['loan_reference', 'a zero-width space (U+200B)', 'LN\u200b-1'],
      ['officer', 'a lone surrogate', 'Wang\ud800'],
    ] as const) {
      it(`refuses ${field} with ${why}: 400 invalid_argument, nothing recorded`, async function () {
        const applicant = applicants[0]!;
        const request = {
          loan_reference: 'LN-2025-000417', officer: '信贷员 王芳', [field]: value,
          items: [{ subject: { uscc: applicant.enterprise.record.uscc }, consent_id: applicant.consentId, questions: [ARREARS_NOW] }],
        };
        const size = await world.gateway.runtime.audit.log.size();
        const error = await refusal(world.client(world.bankA).send('POST', '/v1/verifications', {
          body: JSON.stringify(request), headers: { 'content-type': 'application/json' },
        }));
        expectProblem(error, 400, 'invalid_argument');
        expect(String(error.problem['detail'])).to.include(`/${field}`);
        expect(await world.gateway.runtime.audit.log.size()).to.equal(size);
      });
    }

    it('refuses 101 items with 400 invalid_argument', async function () {
      const applicant = applicants[0]!;
      const items = Array.from({ length: 101 }, () => ({ uscc: applicant.enterprise.record.uscc as string, consentId: applicant.consentId, questions: [ARREARS_NOW] }));
      expectProblem(await refusal(world.ask(world.bankA, items)), 400, 'invalid_argument');
    });
  });

  describe('asked by a participant that is not a bank', function () {
    it('answers 403 role_not_allowed to a source, an enterprise and an auditor', async function () {
      const consentId = await world.grant(world.owing, world.bankA, { questions: [ARREARS_NOW] });
      const others = [world.source, world.owing, world.auditor];
      const body = JSON.stringify({ loan_reference: 'L', officer: 'O', items: [{ subject: { uscc: OWING_USCC }, consent_id: consentId, questions: [ARREARS_NOW] }] });
      for (const participant of others) {
        const error = await refusal(world.client(participant).send('POST', '/v1/verifications', { body, headers: { 'content-type': 'application/json' } }));
        expectProblem(error, 403, 'role_not_allowed');
      }
      expect((await world.consentView(world.bankA, consentId))['uses']).to.equal(0);
    });
  });

  describe('racing a revocation', function () {
    it('answers only before the consent.revoked entry and refuses every item checked after it', async function () {
      const consentId = await world.grant(world.owing, world.bankA);
      const ask = (n: number) => world.ask(world.bankA, [{ uscc: OWING_USCC, consentId, questions: [QUESTIONS[n % QUESTIONS.length] as string] }]);
      // Questions in flight on both sides of the revocation: the first is answered before it is sent.
      const asked = [0, 1, 2, 3].map(ask);
      await asked[0];
      const revocation = world.client(world.owing).revokeConsent(consentId);
      asked.push(...[4, 5, 6, 7].map(ask));
      const revokedIndex = (await revocation).verified.claims['audit_index'] as number;
      const items = (await Promise.all(asked)).map((result) => result.items[0] as Item);
      expect(await world.entry(revokedIndex)).to.include({ kind: 'consent.revoked', consent_id: consentId });
      for (const item of items) {
        if (item.audit_index < revokedIndex) expect(item.status, `item at ${item.audit_index}`).to.equal('answered');
        else expect(item, `item at ${item.audit_index}`).to.include({ status: 'refused', code: 'consent_not_active' });
      }
      expect(items[0]?.status).to.equal('answered');
      // The log agrees: no answer under the consent after its revocation.
      const entries = await world.gateway.runtime.audit.log.entries({ start: 0, end: Number.MAX_SAFE_INTEGER, consentId, limit: 1000 });
      for (const stored of entries.filter((candidate) => candidate.kind === 'verification.answered')) expect(stored.index).to.be.lessThan(revokedIndex);
      expect(entries.filter((candidate) => candidate.kind.startsWith('verification.')).length).to.equal(8);
    });
  });
});

/** The Retry-After header of the 429 that a further single question gets (read from a raw request: the client keeps only the problem). */
async function retryAfterOf(world: World, bank: EnrolledParticipant, consentId: string): Promise<string | undefined> {
  const body = JSON.stringify({ loan_reference: 'L', officer: 'O', items: [{ subject: { uscc: OWING_USCC }, consent_id: consentId, questions: [ARREARS_NOW] }] });
  const token = await signRequest(bank.credentials, { method: 'POST', path: '/v1/verifications', body: Buffer.from(body), audience: world.gateway.config.gatewayId });
  const response = await fetch(`${world.gateway.url}/v1/verifications`, { method: 'POST', body, headers: { authorization: `JWS ${token}`, 'content-type': 'application/json' } });
  expect(response.status).to.equal(429);
  expect(((await response.json()) as { code: string }).code).to.equal('rate_limited');
  return response.headers.get('retry-after') ?? undefined;
}
