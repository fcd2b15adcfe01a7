// Pins the consent endpoints on a real gateway (127.0.0.1, port 0), driven through the typed client as enterprises,
// banks, an auditor and a source would: a grant answers 201 with a receipt that verifies against the JWKS and names
// a `consent.granted` audit entry, packs are resolved into question ids and the artefact is kept byte for byte;
// every refusal of a submitted consent answers its own problem type and stores and records nothing; a replacement
// ends the consent it replaces; listing, reading and paging are kept to each party's own consents, and a consent
// that is someone else's answers the same 404 as one that does not exist; revocation is final; the accesses under
// a consent are listed with audit indexes whose inclusion proofs verify, and reading them is itself logged; a
// consent expires the second its exp passes; and work under a consent's lock is never overtaken by a revocation.
import { createHash, createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { CompactSign, compactVerify, createLocalJWKSet } from 'jose';
import type { CompactJWSHeaderParameters, JSONWebKeySet } from 'jose';
import { verifyInclusion } from '../../gateway/audit/verify.js';
import { GatewayClientError, signConsent } from '../../gateway/client/client.js';
import type { ConsentToSign, GatewayClient, GatewayResponse, ParticipantCredentials } from '../../gateway/client/client.js';
import { verifyConsentOffline } from '../../gateway/consent/index.js';
import { createCertificateAuthority, generateRsaKeyPair, issueParticipantCertificate } from '../../gateway/crypto/x509.js';
import { loadAuthority } from '../../gateway/identity/index.js';
import { usccCheckCharacter } from '../../gateway/identifiers/index.js';
import { startTestGateway } from '../support/gateway.js';
import type { EnrolledParticipant, TestGateway } from '../support/gateway.js';
import { expectProblem, refusal } from '../support/problems.js';

const CONSENT_TYPE = 'gateway-consent+jwt';
const RECEIPT_TYPE = 'gateway-consent-receipt+jwt';
const USCC_X = '91350100M000100Y43';
const USCC_Y = '91110108722619411A';
const USCC_Z = '91370124962235783B';
/** A valid USCC that no participant is bound to. */
const USCC_NOBODY = `91440300000000012${usccCheckCharacter('91440300000000012')}`;
const DAY = 86_400;
/** The question ids of policies/packs.json's social_insurance and utilities packs. */
const SOCIAL_INSURANCE = [
  'medical_arrears_now', 'medical_arrears_24m', 'medical_paid_normally_3m', 'medical_paid_normally_6m', 'medical_continuous_12m',
  'medical_continuous_24m', 'medical_deferral_24m', 'medical_headcount_trend', 'medical_contribution_trend', 'medical_headcount_band',
  'private_medical_designated', 'private_medical_licensed',
];
const UTILITIES = [
  'water_arrears_now', 'electricity_arrears_now', 'gas_arrears_now', 'electricity_account_active', 'electricity_account_suspended',
  'electricity_breach_band', 'water_account_age_band', 'electricity_account_age_band', 'gas_account_age_band',
  'water_one_meter_per_household', 'gas_one_meter_per_household', 'electricity_capacity_band',
];

interface Consent {
  readonly consent_id: string;
  readonly state: string;
  readonly enterprise: string;
  readonly uscc: string;
  readonly bank: string;
  readonly purpose: string;
  readonly questions: readonly string[];
  readonly not_before: string;
  readonly expires_at: string;
  readonly max_uses: number | null;
  readonly uses: number;
  readonly replaces: string | null;
  readonly replaced_by: string | null;
  readonly granted_at: string;
  readonly ended_at: string | null;
  readonly artefact_sha256: string;
  readonly audit_index: number;
  readonly artefact?: string;
}

interface Granted {
  readonly consent: Consent;
  readonly receipt: string;
}

interface ConsentPage {
  readonly consents: readonly Consent[];
  readonly next_cursor: string | null;
}

interface Accesses {
  readonly consent_id: string;
  readonly state: string;
  readonly entries: ReadonlyArray<{ readonly index: number; readonly kind: string; readonly actor: string; readonly recorded_at: string; readonly entry: string }>;
}

interface InclusionAnswer {
  readonly leaf_index: number;
  readonly tree_size: number;
  readonly leaf_hash: string;
  readonly proof: readonly string[];
  readonly root_hash: string;
}

type Entry = Record<string, unknown> & { readonly kind: string; readonly actor: string; readonly subject?: string; readonly consent_id?: string };

/** An enterprise participant with the USCC it was enrolled for. */
type EnterpriseParticipant = EnrolledParticipant & { readonly uscc: string };

/** What to change in a hand-made consent: claims or header members to set (undefined removes one), another key. */
interface Variation {
  readonly claims?: Readonly<Record<string, unknown>>;
  readonly header?: Readonly<Record<string, unknown>>;
  /** Sign with this private key instead of the signer's. */
  readonly privateKeyPem?: string;
  /** Carry this certificate in x5c (and x5t#S256) instead of the signer's. */
  readonly certificatePem?: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const newConsentId = () => `consent-${randomUUID()}`;
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('base64url');
const fromBase64 = (text: string) => Buffer.from(text, 'base64');

function withoutUndefined(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));
}

/** A consent as signConsent would make it (RS256, the certificate in x5c), built by hand so that any part can vary. */
function handMadeConsent(signer: ParticipantCredentials, uscc: string | undefined, bank: string, variation: Variation = {}): Promise<string> {
  const der = new X509Certificate(variation.certificatePem ?? signer.certificatePem).raw;
  const now = nowSeconds();
  const header = withoutUndefined({
    alg: 'RS256', typ: CONSENT_TYPE, kid: signer.participantId, 'x5t#S256': sha256(der), x5c: [der.toString('base64')], ...variation.header,
  });
  const claims = withoutUndefined({
    jti: newConsentId(), iss: signer.participantId, sub: uscc, aud: bank, purpose: 'loan_approval', questions: ['medical_arrears_now'],
    iat: now, nbf: now, exp: now + 30 * DAY, ...variation.claims,
  });
  return new CompactSign(Buffer.from(JSON.stringify(claims), 'utf8'))
    .setProtectedHeader(header as CompactJWSHeaderParameters)
    .sign(createPrivateKey(variation.privateKeyPem ?? signer.privateKeyPem));
}

/** The jti of a token, if its payload can be read at all. */
function jtiOf(token: string): string | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti?: unknown };
    return typeof claims.jti === 'string' ? claims.jti : undefined;
  } catch {
    return undefined;
  }
}


describe('consents (/v1/consents)', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let enterpriseX: EnterpriseParticipant;
  let enterpriseY: EnterpriseParticipant;
  let enterpriseZ: EnterpriseParticipant;
  let bankA: EnrolledParticipant;
  let bankB: EnrolledParticipant;
  let bankC: EnrolledParticipant;
  let suspendedBank: EnrolledParticipant;
  let revokedBank: EnrolledParticipant;
  let auditor: EnrolledParticipant;
  let source: EnrolledParticipant;
  const clients = new Map<EnrolledParticipant, GatewayClient>();

  const clientOf = (participant: EnrolledParticipant) => clients.get(participant) as GatewayClient;
  const idOf = (participant: EnrolledParticipant) => participant.record.participantId;
  const size = async () => gateway.runtime.audit.log.size();
  /** An entry as stored, read in-process (reading it over HTTP would add an entry). */
  const storedEntry = async (index: number): Promise<Entry> => {
    const [stored] = await gateway.runtime.audit.log.entries({ start: index, end: index + 1, limit: 1 });
    expect(stored, `entry ${index}`).to.not.equal(undefined);
    return JSON.parse(Buffer.from(stored!.entry).toString('utf8')) as Entry;
  };

  async function enrolEnterprise(id: string, uscc: string): Promise<EnterpriseParticipant> {
    return { ...(await gateway.enrol('enterprise', { id, uscc })), uscc };
  }

  function submit(as: EnrolledParticipant, token: string): Promise<GatewayResponse> {
    return clientOf(as).send('POST', '/v1/consents', { body: JSON.stringify({ consent: token }), headers: { 'content-type': 'application/json' } });
  }

  async function grant(as: EnrolledParticipant, token: string): Promise<Granted> {
    const response = await submit(as, token);
    expect(response.status).to.equal(201);
    return response.json<Granted>();
  }

  /** A consent signed with signConsent by `enterprise` for its own USCC. */
  function consentBy(enterprise: EnterpriseParticipant, bank: EnrolledParticipant | string, options: Partial<ConsentToSign> = {}): Promise<string> {
    return signConsent(enterprise.credentials, {
      uscc: enterprise.uscc, bank: typeof bank === 'string' ? bank : idOf(bank), purpose: 'loan_approval', questions: ['medical_arrears_now'], days: 30,
      consentId: newConsentId(), ...options,
    });
  }

  const read = async (as: EnrolledParticipant, consentId: string) =>
    (await clientOf(as).send('GET', `/v1/consents/${encodeURIComponent(consentId)}`)).json<Consent>();

  async function listAll(as: EnrolledParticipant): Promise<Consent[]> {
    const found: Consent[] = [];
    let cursor: string | null = null;
    do {
      const page: ConsentPage = (await clientOf(as).send('GET', `/v1/consents?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
      found.push(...page.consents);
      cursor = page.next_cursor;
    } while (cursor);
    return found;
  }

  async function jwks(): Promise<JSONWebKeySet> {
    return (await (await fetch(`${gateway.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  }

  /** Verifies a receipt against the published JWKS, independently of the client library; answers its claims. */
  async function receiptClaims(receipt: string, audience: EnrolledParticipant): Promise<Record<string, unknown>> {
    const { payload, protectedHeader } = await compactVerify(receipt, createLocalJWKSet(await jwks()), { algorithms: ['ES256'] });
    expect(protectedHeader.typ).to.equal(RECEIPT_TYPE);
    const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
    expect(claims['iss']).to.equal(gateway.config.gatewayId);
    expect(claims['aud']).to.equal(idOf(audience));
    return claims;
  }

  /** Submits a consent that must be refused, and checks that nothing was stored and nothing recorded. */
  async function expectRefused(as: EnrolledParticipant, token: string, status: number, code: string): Promise<GatewayClientError> {
    const before = await size();
    const jti = jtiOf(token);
    const existing = jti === undefined ? undefined : await gateway.runtime.store.getConsent(jti);
    const error = await refusal(submit(as, token));
    expectProblem(error, status, code);
    expect(await size(), 'audit entries after a refusal').to.equal(before);
    if (jti !== undefined) expect(await gateway.runtime.store.getConsent(jti), 'the consent stored after a refusal').to.deep.equal(existing);
    return error;
  }

  before(async function () {
    gateway = await startTestGateway({ GATEWAY_CHECKPOINT_INTERVAL_MS: '3600000' });
    enterpriseX = await enrolEnterprise('enterprise-x', USCC_X);
    enterpriseY = await enrolEnterprise('enterprise-y', USCC_Y);
    enterpriseZ = await enrolEnterprise('enterprise-z', USCC_Z);
    bankA = await gateway.enrol('bank', { id: 'bank-a' });
    bankB = await gateway.enrol('bank', { id: 'bank-b' });
    bankC = await gateway.enrol('bank', { id: 'bank-c' });
    suspendedBank = await gateway.enrol('bank', { id: 'bank-suspended' });
    revokedBank = await gateway.enrol('bank', { id: 'bank-revoked' });
    auditor = await gateway.enrol('auditor', { id: 'auditor-a' });
    source = await gateway.enrol('source', { id: 'source-a' });
    await gateway.runtime.participants.changeStatus(idOf(suspendedBank), 'suspend');
    await gateway.runtime.participants.changeStatus(idOf(revokedBank), 'revoke');
    for (const participant of [enterpriseX, enterpriseY, enterpriseZ, bankA, bankB, bankC, suspendedBank, revokedBank, auditor, source]) {
      clients.set(participant, gateway.client(participant));
    }
  });

  after(async function () {
    await gateway?.stop();
  });

  describe('POST /v1/consents', function () {
    describe('signed by the enterprise for its own USCC, to an active bank', function () {
      let token: string;
      let consentId: string;
      let granted: Granted;
      let sizeBefore: number;

      before(async function () {
        consentId = newConsentId();
        token = await consentBy(enterpriseX, bankA, { questions: ['medical_arrears_now', 'water_arrears_now'], maxUses: 5, consentId });
        sizeBefore = (await size());
        granted = await grant(enterpriseX, token);
      });

      it('answers 201 with the consent active, as signed', function () {
        const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { nbf: number; exp: number };
        expect(granted.consent).to.deep.include({
          consent_id: consentId, state: 'active', enterprise: idOf(enterpriseX), uscc: USCC_X, bank: idOf(bankA), purpose: 'loan_approval',
          questions: ['medical_arrears_now', 'water_arrears_now'], max_uses: 5, uses: 0, replaces: null, replaced_by: null, ended_at: null,
          not_before: new Date(claims.nbf * 1000).toISOString(), expires_at: new Date(claims.exp * 1000).toISOString(),
          artefact_sha256: sha256(token), audit_index: sizeBefore,
        });
        expect(Date.parse(granted.consent.granted_at)).to.be.closeTo(Date.now(), 60_000);
      });

      it('answers a receipt that verifies against the JWKS (typ gateway-consent-receipt+jwt) naming the consent, the artefact\'s SHA-256 and the audit index', async function () {
        const claims = await receiptClaims(granted.receipt, enterpriseX);
        expect(claims).to.include({ consent_id: consentId, artefact_sha256: sha256(token), audit_index: granted.consent.audit_index, state: 'active' });
        expect(claims).to.not.have.property('replaces');
        // The client library agrees.
        expect((await clientOf(enterpriseX).verify(granted.receipt, RECEIPT_TYPE)).claims['consent_id']).to.equal(consentId);
      });

      it('records one consent.granted entry at that audit index: by the enterprise, about its USCC, under the consent', async function () {
        expect(await size()).to.be.at.least(sizeBefore + 1);
        const entry = await storedEntry(granted.consent.audit_index);
        expect(entry).to.deep.include({
          kind: 'consent.granted', actor: idOf(enterpriseX), subject: USCC_X, consent_id: consentId, bank: idOf(bankA), purpose: 'loan_approval',
          questions: ['medical_arrears_now', 'water_arrears_now'], max_uses: 5, artefact_sha256: sha256(token),
        });
        expect(entry).to.not.have.property('replaces');
        const granting = await gateway.runtime.audit.log.entries({ start: 0, end: (await size()), consentId, limit: 100 });
        expect(granting.map((stored) => [stored.index, stored.kind])).to.deep.equal([[granted.consent.audit_index, 'consent.granted']]);
      });

      it('stores the artefact verbatim: GET /v1/consents/{id} answers it byte for byte, to the enterprise and to the bank', async function () {
        const asEnterprise = await read(enterpriseX, consentId);
        const asBank = await read(bankA, consentId);
        expect(asEnterprise.artefact).to.equal(token);
        expect(asBank.artefact).to.equal(token);
        const { artefact, ...view } = asBank;
        expect(view).to.deep.equal(granted.consent);
        expect(artefact).to.equal(token);
      });

      it('stores an artefact that verifies offline with only the platform CA certificate', async function () {
        const stored = (await read(bankA, consentId)).artefact as string;
        const verified = await verifyConsentOffline(stored, gateway.runtime.caCertificatePem);
        expect(verified.claims).to.include({ jti: consentId, iss: idOf(enterpriseX), sub: USCC_X, aud: idOf(bankA) });
      });
    });

    describe('naming question packs', function () {
      it('resolves each pack into its question ids, each once, in the answer and in the audit entry', async function () {
        const granted = await grant(enterpriseX, await consentBy(enterpriseX, bankA, { questions: ['social_insurance', 'medical_arrears_now', 'utilities'] }));
        const expected = [...new Set([...SOCIAL_INSURANCE, ...UTILITIES])];
        expect(granted.consent.questions).to.have.members(expected);
        expect(granted.consent.questions).to.have.length(expected.length);
        expect((await storedEntry(granted.consent.audit_index))['questions']).to.have.members(expected);
      });
    });

    describe('signed PS256', function () {
      it('answers 201', async function () {
        const token = await handMadeConsent(enterpriseX.credentials, USCC_X, idOf(bankA), { header: { alg: 'PS256' } });
        expect((await grant(enterpriseX, token)).consent.state).to.equal('active');
      });
    });

    describe('lasting exactly as long as its purpose allows', function () {
      for (const [purpose, days] of [['customer_screening', 30], ['pre_loan_investigation', 90], ['loan_approval', 180], ['post_loan_management', 1095]] as const) {
        it(`answers 201 for ${purpose} over ${days} days`, async function () {
          const granted = await grant(enterpriseX, await consentBy(enterpriseX, bankA, { purpose, days }));
          expect(granted.consent).to.include({ purpose, state: 'active' });
        });
      }
    });

    describe('refused', function () {
      interface RefusalCase {
        readonly why: string;
        readonly as: () => EnrolledParticipant;
        readonly token: () => Promise<string>;
        readonly status: number;
        readonly code: string;
      }
      let platformImpostor: ParticipantCredentials;
      let foreignImpostor: ParticipantCredentials;

      before(function () {
        // Another certificate for enterprise-x from the platform CA itself (not the registered one), and one from
        // another CA with the platform CA's names: neither is the certificate enterprise-x is registered with.
        const pair = generateRsaKeyPair();
        const request = { participantId: idOf(enterpriseX), role: 'enterprise' as const, name: 'Test enterprise', publicKeyPem: pair.publicKeyPem, uscc: USCC_X, days: 30 };
        platformImpostor = { participantId: idOf(enterpriseX), privateKeyPem: pair.privateKeyPem, certificatePem: issueParticipantCertificate(loadAuthority(gateway.config.keysDir), request) };
        const foreignCa = createCertificateAuthority({ commonName: `${gateway.config.gatewayId} root CA` });
        foreignImpostor = { participantId: idOf(enterpriseX), privateKeyPem: pair.privateKeyPem, certificatePem: issueParticipantCertificate(foreignCa, request) };
      });

      const x = () => enterpriseX;
      const y = () => enterpriseY;
      const ownConsent = (variation: Variation = {}) => () => handMadeConsent(enterpriseX.credentials, USCC_X, idOf(bankA), variation);
      const cases: RefusalCase[] = [
        // Who signed it.
        {
          why: 'signed by another enterprise that names the issuer as iss and kid but carries its own certificate',
          as: y, status: 422, code: 'consent_signature_invalid',
          token: () => handMadeConsent(enterpriseY.credentials, USCC_X, idOf(bankA), { header: { kid: idOf(enterpriseX) }, claims: { iss: idOf(enterpriseX) } }),
        },
        {
          why: 'the same, submitted by the enterprise it names',
          as: x, status: 422, code: 'consent_signature_invalid',
          token: () => handMadeConsent(enterpriseY.credentials, USCC_X, idOf(bankA), { header: { kid: idOf(enterpriseX) }, claims: { iss: idOf(enterpriseX) } }),
        },
        {
          why: 'naming the issuer as kid and iss and carrying its certificate, but signed with another enterprise\'s key',
          as: x, status: 422, code: 'consent_signature_invalid', token: () => ownConsent({ privateKeyPem: enterpriseY.credentials.privateKeyPem })(),
        },
        {
          why: 'carrying another certificate the platform CA issued for the issuer, not the one it is registered with',
          as: x, status: 422, code: 'consent_signature_invalid', token: () => handMadeConsent(platformImpostor, USCC_X, idOf(bankA)),
        },
        {
          why: 'carrying a certificate for the issuer from another CA with the same names',
          as: x, status: 422, code: 'consent_signature_invalid', token: () => handMadeConsent(foreignImpostor, USCC_X, idOf(bankA)),
        },
        {
          why: 'signed by the enterprise but submitted by another enterprise',
          as: y, status: 422, code: 'consent_signature_invalid', token: ownConsent(),
        },
        // For whom.
        {
          why: 'signed by the enterprise for another enterprise\'s USCC',
          as: x, status: 403, code: 'consent_subject_mismatch', token: ownConsent({ claims: { sub: USCC_Y } }),
        },
        {
          why: 'signed by the enterprise for a USCC no participant has',
          as: x, status: 403, code: 'consent_subject_mismatch', token: ownConsent({ claims: { sub: USCC_NOBODY } }),
        },
        // To which bank.
        { why: 'addressed to an unknown bank', as: x, status: 422, code: 'consent_bank_unavailable', token: ownConsent({ claims: { aud: 'bank-nobody' } }) },
        { why: 'addressed to a suspended bank', as: x, status: 422, code: 'consent_bank_unavailable', token: () => handMadeConsent(enterpriseX.credentials, USCC_X, idOf(suspendedBank)) },
        { why: 'addressed to a revoked bank', as: x, status: 422, code: 'consent_bank_unavailable', token: () => handMadeConsent(enterpriseX.credentials, USCC_X, idOf(revokedBank)) },
        { why: 'addressed to another enterprise', as: x, status: 422, code: 'consent_bank_unavailable', token: () => handMadeConsent(enterpriseX.credentials, USCC_X, idOf(enterpriseY)) },
        { why: 'addressed to the enterprise itself', as: x, status: 422, code: 'consent_bank_unavailable', token: () => handMadeConsent(enterpriseX.credentials, USCC_X, idOf(enterpriseX)) },
        { why: 'addressed to an auditor', as: x, status: 422, code: 'consent_bank_unavailable', token: () => handMadeConsent(enterpriseX.credentials, USCC_X, idOf(auditor)) },
        { why: 'addressed to a source', as: x, status: 422, code: 'consent_bank_unavailable', token: () => handMadeConsent(enterpriseX.credentials, USCC_X, idOf(source)) },
        // Which questions, for what.
        { why: 'naming an unknown question', as: x, status: 422, code: 'question_unknown', token: ownConsent({ claims: { questions: ['medical_arrears_now', 'medical_arrears_99m'] } }) },
        { why: 'naming an unknown pack', as: x, status: 422, code: 'question_unknown', token: ownConsent({ claims: { questions: ['everything'] } }) },
        {
          why: 'naming a question that does not allow the purpose (medical_arrears_24m for customer_screening)',
          as: x, status: 422, code: 'purpose_not_allowed', token: ownConsent({ claims: { purpose: 'customer_screening', questions: ['medical_arrears_now', 'medical_arrears_24m'] } }),
        },
        {
          why: 'naming a pack with a question that does not allow the purpose (social_insurance for customer_screening)',
          as: x, status: 422, code: 'purpose_not_allowed', token: ownConsent({ claims: { purpose: 'customer_screening', questions: ['social_insurance'] } }),
        },
        // When.
        {
          why: 'whose exp has passed',
          // Signed just now (its certificate is only minutes old) for a period already over.
          as: x, status: 422, code: 'consent_expired', token: ownConsent({ claims: { nbf: nowSeconds() - 10 * DAY, exp: nowSeconds() - 1 } }),
        },
        {
          why: 'whose exp is not after its nbf',
          as: x, status: 422, code: 'consent_expired', token: ownConsent({ claims: { nbf: nowSeconds() + DAY, exp: nowSeconds() + DAY } }),
        },
        {
          why: 'lasting 31 days for customer_screening',
          as: x, status: 422, code: 'consent_too_long', token: ownConsent({ claims: { purpose: 'customer_screening', exp: nowSeconds() + 31 * DAY } }),
        },
        { why: 'lasting 91 days for pre_loan_investigation', as: x, status: 422, code: 'consent_too_long', token: ownConsent({ claims: { purpose: 'pre_loan_investigation', exp: nowSeconds() + 91 * DAY } }) },
        { why: 'lasting 181 days for loan_approval', as: x, status: 422, code: 'consent_too_long', token: ownConsent({ claims: { exp: nowSeconds() + 181 * DAY } }) },
        { why: 'lasting 1096 days for post_loan_management', as: x, status: 422, code: 'consent_too_long', token: ownConsent({ claims: { purpose: 'post_loan_management', exp: nowSeconds() + 1096 * DAY } }) },
        {
          why: 'lasting 35 days from an nbf 10 days ago, for customer_screening',
          as: x, status: 422, code: 'consent_too_long',
          token: ownConsent({ claims: { purpose: 'customer_screening', nbf: nowSeconds() - 10 * DAY, exp: nowSeconds() + 25 * DAY } }),
        },
        {
          why: 'lasting 10 days from an nbf 100 days ahead, for customer_screening (exp beyond 30 days from now)',
          as: x, status: 422, code: 'consent_too_long',
          token: ownConsent({ claims: { purpose: 'customer_screening', nbf: nowSeconds() + 100 * DAY, exp: nowSeconds() + 110 * DAY } }),
        },
        // Not a well-formed consent.
        { why: 'that is not a JWS', as: x, status: 400, code: 'consent_malformed', token: async () => 'I, enterprise-x, consent.' },
        { why: 'of three parts that are not base64url JSON', as: x, status: 400, code: 'consent_malformed', token: async () => 'abc.def.ghi' },
        { why: 'with typ JWT', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ header: { typ: 'JWT' } }) },
        { why: 'with the request typ', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ header: { typ: 'gateway-request+jwt' } }) },
        { why: 'without typ', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ header: { typ: undefined } }) },
        { why: 'without x5c', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ header: { x5c: undefined } }) },
        { why: 'without kid', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ header: { kid: undefined } }) },
        { why: 'with an iss other than its kid', as: x, status: 400, code: 'consent_malformed', token: () => ownConsent({ claims: { iss: idOf(enterpriseY) } })() },
        { why: 'with an unknown purpose', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { purpose: 'marketing' } }) },
        { why: 'with an extra claim', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { scope: 'everything' } }) },
        { why: 'with no questions', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { questions: [] } }) },
        { why: 'with a question named twice', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { questions: ['medical_arrears_now', 'medical_arrears_now'] } }) },
        { why: 'without exp', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { exp: undefined } }) },
        { why: 'with exp as a string', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { exp: String(nowSeconds() + DAY) } }) },
        { why: 'with a jti of 8 characters', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { jti: 'consent1' } }) },
        { why: 'with max_uses 0', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { max_uses: 0 } }) },
        { why: 'with a sub that is not a USCC', as: x, status: 400, code: 'consent_malformed', token: ownConsent({ claims: { sub: 'not-a-uscc' } }) },
        {
          why: 'signed HS256',
          as: x, status: 400, code: 'consent_malformed',
          token: async () => {
            const [header, payload] = (await ownConsent()()).split('.') as [string, string];
            const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as CompactJWSHeaderParameters;
            return new CompactSign(Buffer.from(payload, 'base64url')).setProtectedHeader({ ...parsed, alg: 'HS256' }).sign(new Uint8Array(32).fill(1));
          },
        },
        {
          why: 'with alg none and no signature',
          as: x, status: 400, code: 'consent_malformed',
          token: async () => {
            const [header, payload] = (await ownConsent()()).split('.') as [string, string];
            const parsed = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>;
            return `${Buffer.from(JSON.stringify({ ...parsed, alg: 'none' })).toString('base64url')}.${payload}.`;
          },
        },
        // Who submits it.
        { why: 'submitted by a bank', as: () => bankA, status: 403, code: 'role_not_allowed', token: ownConsent() },
        { why: 'submitted by an auditor', as: () => auditor, status: 403, code: 'role_not_allowed', token: ownConsent() },
        { why: 'submitted by a source', as: () => source, status: 403, code: 'role_not_allowed', token: ownConsent() },
      ];
      for (const { why, as, token, status, code } of cases) {
        describe(why, function () {
          it(`answers ${status} ${code}, storing nothing and recording nothing`, async function () {
            await expectRefused(as(), await token(), status, code);
          });
        });
      }

      describe('with a body that is not {"consent": "<JWS>"}', function () {
        for (const [what, body] of [['a number', '{"consent": 42}'], ['no consent member', '{"token": "a.b.c"}'], ['an array of tokens', '{"consent": ["a.b.c"]}']] as const) {
          it(`answers 400 consent_malformed for ${what}`, async function () {
            const before = await size();
            const error = await refusal(clientOf(enterpriseX).send('POST', '/v1/consents', { body, headers: { 'content-type': 'application/json' } }));
            expectProblem(error, 400, 'consent_malformed');
            expect(await size()).to.equal(before);
          });
        }
      });

      describe('with an id already used', function () {
        let token: string;

        before(async function () {
          token = await consentBy(enterpriseX, bankA);
          await grant(enterpriseX, token);
        });

        it('answers 409 consent_duplicate to the same consent submitted again, keeping the first', async function () {
          await expectRefused(enterpriseX, token, 409, 'consent_duplicate');
        });

        it('answers 409 consent_duplicate to another consent with the same jti, keeping the first', async function () {
          const again = await consentBy(enterpriseX, bankB, { consentId: jtiOf(token), questions: ['water_arrears_now'] });
          await expectRefused(enterpriseX, again, 409, 'consent_duplicate');
          expect((await read(enterpriseX, jtiOf(token)!)).artefact).to.equal(token);
        });
      });

      describe('naming in "replaces" a consent that is not an active consent of the same enterprise', function () {
        let yConsent: Granted;
        let revoked: Granted;

        before(async function () {
          yConsent = await grant(enterpriseY, await consentBy(enterpriseY, bankA));
          revoked = await grant(enterpriseX, await consentBy(enterpriseX, bankA));
          await clientOf(enterpriseX).revokeConsent(revoked.consent.consent_id);
        });

        it('answers 422 consent_replaces_invalid for another enterprise\'s consent, which stays active', async function () {
          await expectRefused(enterpriseX, await consentBy(enterpriseX, bankA, { replaces: yConsent.consent.consent_id }), 422, 'consent_replaces_invalid');
          expect((await read(enterpriseY, yConsent.consent.consent_id)).state).to.equal('active');
        });

        it('answers 422 consent_replaces_invalid for an unknown consent', async function () {
          await expectRefused(enterpriseX, await consentBy(enterpriseX, bankA, { replaces: newConsentId() }), 422, 'consent_replaces_invalid');
        });

        it('answers 422 consent_replaces_invalid for a revoked consent, which stays revoked', async function () {
          await expectRefused(enterpriseX, await consentBy(enterpriseX, bankA, { replaces: revoked.consent.consent_id }), 422, 'consent_replaces_invalid');
          expect((await read(enterpriseX, revoked.consent.consent_id)).state).to.equal('revoked');
        });

        it('answers 422 consent_replaces_invalid for itself', async function () {
          const consentId = newConsentId();
          await expectRefused(enterpriseX, await consentBy(enterpriseX, bankA, { consentId, replaces: consentId }), 422, 'consent_replaces_invalid');
        });
      });

      // The gateway refuses what the offline check (`gateway consent verify`) would refuse.
      describe('signed (iat) before its certificate was valid', function () {
        it('answers 422 consent_signature_invalid, as the offline check would refuse it, storing nothing', async function () {
          const iat = nowSeconds() - DAY;
          const token = await handMadeConsent(enterpriseX.credentials, USCC_X, idOf(bankA), { claims: { iat, nbf: nowSeconds(), exp: nowSeconds() + 10 * DAY } });
          const offline = await verifyConsentOffline(token, gateway.runtime.caCertificatePem).then(() => 'valid', (error: { code?: string }) => error.code);
          expect(offline, 'the offline check').to.equal('consent_signature_invalid');
          await expectRefused(enterpriseX, token, 422, 'consent_signature_invalid');
        });
      });
    });

    describe('replacing an active consent of the same enterprise', function () {
      let old: Granted;
      let replacement: Granted;
      let replacementToken: string;

      before(async function () {
        old = await grant(enterpriseX, await consentBy(enterpriseX, bankA));
        replacementToken = await consentBy(enterpriseX, bankA, { purpose: 'post_loan_management', questions: ['risk_monitoring'], days: 365, replaces: old.consent.consent_id });
        replacement = await grant(enterpriseX, replacementToken);
      });

      it('makes the new consent active, naming the one it replaces', function () {
        expect(replacement.consent).to.include({ state: 'active', replaces: old.consent.consent_id, replaced_by: null, purpose: 'post_loan_management' });
      });

      it('ends the replaced consent: state replaced, replaced_by the new one, ended_at set', async function () {
        const ended = await read(enterpriseX, old.consent.consent_id);
        expect(ended).to.include({ state: 'replaced', replaced_by: replacement.consent.consent_id, replaces: null });
        expect(ended.ended_at).to.be.a('string');
        expect(Date.parse(ended.ended_at!)).to.be.closeTo(Date.now(), 60_000);
        expect((await read(bankA, old.consent.consent_id)).state).to.equal('replaced');
      });

      it('records replaces in the consent.granted entry and in the receipt', async function () {
        expect(await storedEntry(replacement.consent.audit_index)).to.deep.include({
          kind: 'consent.granted', consent_id: replacement.consent.consent_id, replaces: old.consent.consent_id, subject: USCC_X,
        });
        expect(await receiptClaims(replacement.receipt, enterpriseX)).to.include({ consent_id: replacement.consent.consent_id, replaces: old.consent.consent_id });
      });

      it('refuses to replace the replaced consent again: 422 consent_replaces_invalid', async function () {
        await expectRefused(enterpriseX, await consentBy(enterpriseX, bankA, { replaces: old.consent.consent_id }), 422, 'consent_replaces_invalid');
      });

      it('refuses to revoke the replaced consent: 409 consent_not_active', async function () {
        expectProblem(await refusal(clientOf(enterpriseX).revokeConsent(old.consent.consent_id)), 409, 'consent_not_active');
      });
    });
  });

  describe('GET /v1/consents', function () {
    let xToA: Granted;
    let xToB: Granted;
    let yToA: Granted;

    before(async function () {
      xToA = await grant(enterpriseX, await consentBy(enterpriseX, bankA));
      xToB = await grant(enterpriseX, await consentBy(enterpriseX, bankB));
      yToA = await grant(enterpriseY, await consentBy(enterpriseY, bankA));
    });

    describe('as an enterprise', function () {
      it('lists only the consents about its USCC, to every bank', async function () {
        const found = await listAll(enterpriseX);
        const ids = found.map((consent) => consent.consent_id);
        expect(found.every((consent) => consent.uscc === USCC_X && consent.enterprise === idOf(enterpriseX))).to.equal(true);
        expect(ids).to.include.members([xToA.consent.consent_id, xToB.consent.consent_id]);
        expect(ids).to.not.include(yToA.consent.consent_id);
        expect(new Set(ids).size).to.equal(ids.length);
      });

      it('is kept to its own consents: another enterprise does not see them', async function () {
        const ids = (await listAll(enterpriseY)).map((consent) => consent.consent_id);
        expect(ids).to.include(yToA.consent.consent_id);
        expect(ids).to.not.include.members([xToA.consent.consent_id]);
        expect(ids).to.not.include(xToB.consent.consent_id);
      });
    });

    describe('as a bank', function () {
      it('lists only the consents addressed to it, from every enterprise', async function () {
        const found = await listAll(bankA);
        const ids = found.map((consent) => consent.consent_id);
        expect(found.every((consent) => consent.bank === idOf(bankA))).to.equal(true);
        expect(ids).to.include.members([xToA.consent.consent_id, yToA.consent.consent_id]);
        expect(ids).to.not.include(xToB.consent.consent_id);
        const atB = (await listAll(bankB)).map((consent) => consent.consent_id);
        expect(atB).to.include(xToB.consent.consent_id);
        expect(atB).to.not.include.members([xToA.consent.consent_id]);
      });

      it('lists nothing to a bank no consent is addressed to', async function () {
        const fresh = await gateway.enrol('bank', { id: 'bank-unused' });
        expect((await gateway.client(fresh).send('GET', '/v1/consents')).json<ConsentPage>()).to.deep.equal({ consents: [], next_cursor: null });
      });
    });

    for (const role of ['auditor', 'source'] as const) {
      describe(`as ${role === 'auditor' ? 'an auditor' : 'a source'}`, function () {
        it('answers 403 role_not_allowed', async function () {
          const reader = role === 'auditor' ? auditor : source;
          expectProblem(await refusal(clientOf(reader).send('GET', '/v1/consents')), 403, 'role_not_allowed');
        });
      });
    }

    describe('paging with limit and cursor', function () {
      const granted: string[] = [];

      before(async function () {
        for (let n = 0; n < 7; n++) granted.push((await grant(enterpriseZ, await consentBy(enterpriseZ, bankC))).consent.consent_id);
      });

      for (const role of ['enterprise', 'bank'] as const) {
        it(`walks every consent once, in grant order, three at a time, as the ${role}`, async function () {
          const reader = role === 'enterprise' ? enterpriseZ : bankC;
          const walked: string[] = [];
          const sizes: number[] = [];
          let cursor: string | null = null;
          do {
            const page: ConsentPage = (await clientOf(reader).send('GET', `/v1/consents?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
            sizes.push(page.consents.length);
            walked.push(...page.consents.map((consent) => consent.consent_id));
            cursor = page.next_cursor;
            expect(sizes.length, 'pages').to.be.at.most(4);
          } while (cursor);
          expect(walked).to.deep.equal(granted);
          expect(sizes).to.deep.equal([3, 3, 1]);
        });
      }

      it('answers all of them, and no cursor, without a limit', async function () {
        const page = (await clientOf(enterpriseZ).send('GET', '/v1/consents')).json<ConsentPage>();
        expect(page.consents.map((consent) => consent.consent_id)).to.deep.equal(granted);
        expect(page.next_cursor).to.equal(null);
      });

      const bad: ReadonlyArray<readonly [string, string]> = [
        ['a garbage cursor', 'cursor=garbage!!'],
        ['a cursor that is base64url of something else', `cursor=${Buffer.from('seven').toString('base64url')}`],
        ['a repeated cursor', 'cursor=MQ&cursor=Mg'],
        ['a cursor of 65 characters', `cursor=${'A'.repeat(65)}`],
        ['limit 0', 'limit=0'],
        ['limit 501', 'limit=501'],
        ['a non-integer limit', 'limit=three'],
      ];
      for (const [what, query] of bad) {
        it(`answers 400 invalid_argument for ${what}`, async function () {
          expectProblem(await refusal(clientOf(enterpriseZ).send('GET', `/v1/consents?${query}`)), 400, 'invalid_argument');
        });
      }
    });
  });

  describe('GET /v1/consents/{id}', function () {
    let granted: Granted;
    let token: string;

    before(async function () {
      token = await consentBy(enterpriseX, bankA);
      granted = await grant(enterpriseX, token);
    });

    it('answers the consent and its artefact to the enterprise and to the bank', async function () {
      for (const reader of [enterpriseX, bankA]) {
        const found = await read(reader, granted.consent.consent_id);
        expect(found).to.deep.equal({ ...granted.consent, artefact: token });
      }
    });

    describe('probed by another bank', function () {
      it('answers 404 not_found, the same body (but for request_id) as for an id that does not exist', async function () {
        const probed = await refusal(clientOf(bankB).send('GET', `/v1/consents/${granted.consent.consent_id}`));
        const missing = await refusal(clientOf(bankB).send('GET', `/v1/consents/${newConsentId()}`));
        expectProblem(probed, 404, 'not_found');
        expectProblem(missing, 404, 'not_found');
        const { request_id: probedId, ...probedBody } = probed.problem;
        const { request_id: missingId, ...missingBody } = missing.problem;
        expect(probedBody).to.deep.equal(missingBody);
        expect(probedId).to.not.equal(missingId);
        expect(JSON.stringify(probed.problem)).to.not.include(granted.consent.consent_id);
      });
    });

    describe('read by another enterprise', function () {
      it('answers the same 404 not_found as for an id that does not exist', async function () {
        const probed = await refusal(clientOf(enterpriseY).send('GET', `/v1/consents/${granted.consent.consent_id}`));
        const missing = await refusal(clientOf(enterpriseY).send('GET', `/v1/consents/${newConsentId()}`));
        expectProblem(probed, 404, 'not_found');
        const { request_id: _probedId, ...probedBody } = probed.problem;
        const { request_id: _missingId, ...missingBody } = missing.problem;
        expect(probedBody).to.deep.equal(missingBody);
      });
    });

    for (const role of ['auditor', 'source'] as const) {
      describe(`read by ${role === 'auditor' ? 'an auditor' : 'a source'}`, function () {
        it('answers 403 role_not_allowed', async function () {
          const reader = role === 'auditor' ? auditor : source;
          expectProblem(await refusal(clientOf(reader).send('GET', `/v1/consents/${granted.consent.consent_id}`)), 403, 'role_not_allowed');
        });
      });
    }
  });

  describe('POST /v1/consents/{id}/revocation', function () {
    let granted: Granted;

    before(async function () {
      granted = await grant(enterpriseX, await consentBy(enterpriseX, bankA));
    });

    describe('by the bank the consent is for', function () {
      it('answers 403 role_not_allowed: revocation is the enterprise\'s', async function () {
        const before = await size();
        expectProblem(await refusal(clientOf(bankA).send('POST', `/v1/consents/${granted.consent.consent_id}/revocation`)), 403, 'role_not_allowed');
        expect(await size()).to.equal(before);
        expect((await read(enterpriseX, granted.consent.consent_id)).state).to.equal('active');
      });
    });

    describe('by another enterprise', function () {
      it('answers 404 not_found, as for an id that does not exist, and the consent stays active', async function () {
        const before = await size();
        const probed = await refusal(clientOf(enterpriseY).send('POST', `/v1/consents/${granted.consent.consent_id}/revocation`));
        const missing = await refusal(clientOf(enterpriseY).send('POST', `/v1/consents/${newConsentId()}/revocation`));
        expectProblem(probed, 404, 'not_found');
        const { request_id: _probedId, ...probedBody } = probed.problem;
        const { request_id: _missingId, ...missingBody } = missing.problem;
        expect(probedBody).to.deep.equal(missingBody);
        expect(await size()).to.equal(before);
        expect((await read(enterpriseX, granted.consent.consent_id)).state).to.equal('active');
      });
    });

    describe('by the enterprise', function () {
      let revoked: Granted;
      let sizeBefore: number;

      before(async function () {
        sizeBefore = (await size());
        revoked = (await clientOf(enterpriseX).send('POST', `/v1/consents/${granted.consent.consent_id}/revocation`)).json<Granted>();
      });

      it('answers the consent revoked, with ended_at', function () {
        expect(revoked.consent).to.deep.include({ ...granted.consent, state: 'revoked', ended_at: revoked.consent.ended_at });
        expect(Date.parse(revoked.consent.ended_at!)).to.be.closeTo(Date.now(), 60_000);
      });

      it('answers a receipt that verifies against the JWKS, naming a consent.revoked entry by the enterprise', async function () {
        const claims = await receiptClaims(revoked.receipt, enterpriseX);
        expect(claims).to.include({ consent_id: granted.consent.consent_id, artefact_sha256: granted.consent.artefact_sha256, state: 'revoked' });
        expect(claims['audit_index']).to.equal(sizeBefore);
        expect(await storedEntry(sizeBefore)).to.deep.include({ kind: 'consent.revoked', actor: idOf(enterpriseX), subject: USCC_X, consent_id: granted.consent.consent_id, bank: idOf(bankA) });
      });

      it('answers 409 consent_not_active when asked again, recording nothing', async function () {
        const after = await size();
        expectProblem(await refusal(clientOf(enterpriseX).revokeConsent(granted.consent.consent_id)), 409, 'consent_not_active');
        expect(await size()).to.equal(after);
      });

      it('never brings the consent back: it reads revoked, to both parties, and a consent replacing it is refused', async function () {
        expect((await read(enterpriseX, granted.consent.consent_id)).state).to.equal('revoked');
        expect((await read(bankA, granted.consent.consent_id)).state).to.equal('revoked');
        expect((await listAll(bankA)).find((consent) => consent.consent_id === granted.consent.consent_id)?.state).to.equal('revoked');
        await expectRefused(enterpriseX, await consentBy(enterpriseX, bankA, { replaces: granted.consent.consent_id }), 422, 'consent_replaces_invalid');
      });
    });

    describe('of an id that does not exist', function () {
      it('answers 404 not_found', async function () {
        expectProblem(await refusal(clientOf(enterpriseX).revokeConsent(newConsentId())), 404, 'not_found');
      });
    });
  });

  describe('GET /v1/consents/{id}/accesses', function () {
    let granted: Granted;
    let revocationIndex: number;

    const accesses = async (as: EnrolledParticipant, consentId: string) =>
      (await clientOf(as).send('GET', `/v1/consents/${encodeURIComponent(consentId)}/accesses`)).json<Accesses>();

    before(async function () {
      granted = await grant(enterpriseX, await consentBy(enterpriseX, bankA));
      revocationIndex = Number((await clientOf(enterpriseX).revokeConsent(granted.consent.consent_id)).verified.claims['audit_index']);
    });

    describe('as the enterprise', function () {
      it('lists the audit entries under the consent with their indexes: its grant and its revocation', async function () {
        const found = await accesses(enterpriseX, granted.consent.consent_id);
        expect(found.consent_id).to.equal(granted.consent.consent_id);
        expect(found.state).to.equal('revoked');
        expect(found.entries.map((entry) => [entry.index, entry.kind, entry.actor])).to.deep.equal([
          [granted.consent.audit_index, 'consent.granted', idOf(enterpriseX)],
          [revocationIndex, 'consent.revoked', idOf(enterpriseX)],
        ]);
        for (const entry of found.entries) {
          const stored = (await gateway.runtime.audit.log.entries({ start: entry.index, end: entry.index + 1, limit: 1 }))[0]!;
          expect(entry.entry).to.equal(Buffer.from(stored.entry).toString('utf8'));
          expect(entry.recorded_at).to.equal(stored.recordedAt);
          expect((JSON.parse(entry.entry) as Entry).consent_id).to.equal(granted.consent.consent_id);
        }
      });

      it('records each read as a consent.accesses_read entry about the enterprise, which the next read lists', async function () {
        const before = await size();
        const first = await accesses(enterpriseX, granted.consent.consent_id);
        expect(await size()).to.equal(before + 1);
        expect((await storedEntry(before))).to.deep.include({
          kind: 'consent.accesses_read', actor: idOf(enterpriseX), subject: USCC_X, consent_id: granted.consent.consent_id, entries: first.entries.length,
        });
        const second = await accesses(enterpriseX, granted.consent.consent_id);
        expect(second.entries).to.have.length(first.entries.length + 1);
        expect(second.entries.at(-1)).to.include({ index: before, kind: 'consent.accesses_read' });
      });

      it('lists indexes whose inclusion proofs the enterprise may fetch, and that verify against the tree', async function () {
        const found = await accesses(enterpriseX, granted.consent.consent_id);
        const treeSize = await size();
        for (const entry of found.entries) {
          const answer = (await clientOf(enterpriseX).send('GET', `/v1/audit/proofs/inclusion?index=${entry.index}&tree_size=${treeSize}`)).json<InclusionAnswer>();
          const leaf = createHash('sha256').update(Uint8Array.of(0)).update(Buffer.from(entry.entry, 'utf8')).digest();
          expect(fromBase64(answer.leaf_hash).equals(leaf), `leaf hash of entry ${entry.index}`).to.equal(true);
          expect(fromBase64(answer.root_hash).equals(await gateway.runtime.audit.log.rootAt(treeSize))).to.equal(true);
          verifyInclusion(BigInt(entry.index), BigInt(treeSize), leaf, answer.proof.map(fromBase64), fromBase64(answer.root_hash));
        }
      });
    });

    describe('as the bank the consent is for', function () {
      it('answers 403 role_not_allowed, recording nothing', async function () {
        const before = await size();
        expectProblem(await refusal(clientOf(bankA).send('GET', `/v1/consents/${granted.consent.consent_id}/accesses`)), 403, 'role_not_allowed');
        expect(await size()).to.equal(before);
      });
    });

    describe('as another enterprise', function () {
      it('answers 404 not_found, recording nothing', async function () {
        const before = await size();
        expectProblem(await refusal(clientOf(enterpriseY).send('GET', `/v1/consents/${granted.consent.consent_id}/accesses`)), 404, 'not_found');
        expect(await size()).to.equal(before);
      });
    });
  });

  describe('a consent whose exp passes', function () {
    let granted: Granted;

    before(async function () {
      const now = nowSeconds();
      granted = await grant(enterpriseX, await handMadeConsent(enterpriseX.credentials, USCC_X, idOf(bankA), { claims: { iat: now, nbf: now, exp: now + 2 } }));
      expect(granted.consent.state).to.equal('active');
      const expiresAt = Date.parse(granted.consent.expires_at);
      await delay(Math.max(0, expiresAt - Date.now()) + 100);
    });

    it('reads expired, to both parties and in their lists', async function () {
      expect((await read(enterpriseX, granted.consent.consent_id)).state).to.equal('expired');
      expect((await read(bankA, granted.consent.consent_id)).state).to.equal('expired');
      expect((await listAll(enterpriseX)).find((consent) => consent.consent_id === granted.consent.consent_id)?.state).to.equal('expired');
    });

    it('cannot be revoked: 409 consent_not_active', async function () {
      const before = await size();
      expectProblem(await refusal(clientOf(enterpriseX).revokeConsent(granted.consent.consent_id)), 409, 'consent_not_active');
      expect(await size()).to.equal(before);
    });

    it('cannot be replaced: 422 consent_replaces_invalid', async function () {
      await expectRefused(enterpriseX, await consentBy(enterpriseX, bankA, { replaces: granted.consent.consent_id }), 422, 'consent_replaces_invalid');
    });
  });

  describe('a revocation racing work under the same consent (ConsentService.exclusive)', function () {
    const stateOf = async (consentId: string) => gateway.runtime.consents.stateOf((await gateway.runtime.store.getConsent(consentId))!);

    it('is recorded only after the work that held the consent has finished, and work queued after it sees revoked', async function () {
      const { consent } = await grant(enterpriseX, await consentBy(enterpriseX, bankA));
      const consents = gateway.runtime.consents;
      // A spy on the service the routes call, to know when the revocation has asked for the consent's lock (revoke
      // takes it synchronously), rather than guessing with a delay.
      const original = consents.revoke;
      const revoke = original.bind(consents);
      let revocationQueued!: () => void;
      const queued = new Promise<void>((resolve) => {
        revocationQueued = resolve;
      });
      (consents as { revoke: typeof revoke }).revoke = (principal, consentId) => {
        const result = revoke(principal, consentId);
        revocationQueued();
        return result;
      };
      try {
        let workEndIndex = -1;
        const work = consents.exclusive(consent.consent_id, async () => {
          const atStart = await stateOf(consent.consent_id);
          await Promise.race([queued, delay(5_000)]);
          await delay(100);
          const atEnd = await stateOf(consent.consent_id);
          // What an answer under the consent would record, at the very end of the work.
          workEndIndex = (await gateway.runtime.audit.log.append({ kind: 'audit.read', actor: 'race-test', details: { at_end_of: consent.consent_id } })).index;
          return { atStart, atEnd, answer: 'answered' };
        });
        const revocation = clientOf(enterpriseX).revokeConsent(consent.consent_id);
        await queued;
        const later = consents.exclusive(consent.consent_id, async () => stateOf(consent.consent_id));
        const [done, revoked, seenLater] = await Promise.all([work, revocation, later]);
        expect(done).to.deep.equal({ atStart: 'active', atEnd: 'active', answer: 'answered' });
        expect(Number(revoked.verified.claims['audit_index'])).to.be.greaterThan(workEndIndex);
        expect((await storedEntry(Number(revoked.verified.claims['audit_index']))).kind).to.equal('consent.revoked');
        expect(seenLater).to.equal('revoked');
      } finally {
        (consents as { revoke: typeof revoke }).revoke = original;
      }
    });

    it('answers another enterprise\'s revocation 404 at once while the lock is held: a guessed id is neither waited for nor delayed', async function () {
      const { consent } = await grant(enterpriseX, await consentBy(enterpriseX, bankA));
      let release!: () => void;
      const holding = gateway.runtime.consents.exclusive(consent.consent_id, () => new Promise<void>((resolve) => {
        release = resolve;
      }));
      try {
        // Were the lock taken before the consent is found to be someone else's, this would wait until release().
        expectProblem(await refusal(clientOf(enterpriseY).revokeConsent(consent.consent_id)), 404, 'not_found');
      } finally {
        release();
        await holding;
      }
      expect(await stateOf(consent.consent_id)).to.equal('active');
    });

    it('lets work that starts after the revocation see revoked', async function () {
      const { consent } = await grant(enterpriseX, await consentBy(enterpriseX, bankA));
      await clientOf(enterpriseX).revokeConsent(consent.consent_id);
      expect(await gateway.runtime.consents.exclusive(consent.consent_id, async () => stateOf(consent.consent_id))).to.equal('revoked');
    });
  });
});
