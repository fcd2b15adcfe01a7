// Pins the consent artefact checks that need nothing but the platform CA certificate (gateway/consent/artefact.ts):
// verifyConsentOffline accepts a consent signed by the enterprise named in it with the certificate the CA issued it,
// and refuses, each with its code, a tampered payload, a certificate from another CA with the same names, the
// certificate of a bank or of another participant, a subject that is not the certificate's USCC, and a signature
// made outside the certificate's validity; parseConsent refuses what is not a well-formed consent JWS.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { CompactSign } from 'jose';
import type { CompactJWSHeaderParameters } from 'jose';
import { signConsent } from '../../gateway/client/client.js';
import type { ParticipantCredentials } from '../../gateway/client/client.js';
import { parseConsent, verifyConsentOffline } from '../../gateway/consent/index.js';
import { createCertificateAuthority, generateRsaKeyPair, issueParticipantCertificate } from '../../gateway/crypto/x509.js';
import type { CertificateAuthority, ParticipantRole } from '../../gateway/crypto/x509.js';
import { GatewayError } from '../../gateway/errors/index.js';

const CA_NAME = 'test-gateway root CA';
const USCC = '91350100M000100Y43';
const OTHER_USCC = '91110108722619411A';
const ENTERPRISE_ID = 'enterprise-mingde';
const BANK_ID = 'bank-jinan';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

interface Issued {
  readonly credentials: ParticipantCredentials;
}

type KeyPair = ReturnType<typeof generateRsaKeyPair>;

/**
 * A certificate from `ca` for `pair` (RSA key generation is the slow part, so the tests share two key pairs: what
 * each case varies is the certificate).
 */
function issue(ca: CertificateAuthority, pair: KeyPair, options: { id?: string; role?: ParticipantRole; uscc?: string | undefined; days?: number; now?: Date } = {}): Issued {
  const participantId = options.id ?? ENTERPRISE_ID;
  const certificatePem = issueParticipantCertificate(ca, {
    participantId,
    role: options.role ?? 'enterprise',
    name: '济南明德机械有限公司',
    publicKeyPem: pair.publicKeyPem,
    uscc: 'uscc' in options ? options.uscc : USCC,
    days: options.days ?? 30,
    ...(options.now ? { now: options.now } : {}),
  });
  return { credentials: { participantId, privateKeyPem: pair.privateKeyPem, certificatePem } };
}

function consentOf(issued: Issued, overrides: { uscc?: string; now?: Date; consentId?: string } = {}): Promise<string> {
  return signConsent(issued.credentials, {
    uscc: overrides.uscc ?? USCC, bank: BANK_ID, purpose: 'loan_approval', questions: ['social_insurance', 'water_arrears_now'],
    days: 30, maxUses: 10, consentId: overrides.consentId ?? 'consent-0000000000000001', ...(overrides.now ? { now: overrides.now } : {}),
  });
}

/** A JWS built by hand, so that header and claims can be anything. */
function handSigned(privateKeyPem: string, header: CompactJWSHeaderParameters, claims: unknown): Promise<string> {
  const payload = typeof claims === 'string' ? claims : JSON.stringify(claims);
  return new CompactSign(Buffer.from(payload, 'utf8')).setProtectedHeader(header).sign(createPrivateKey(privateKeyPem));
}

function consentHeader(issued: Issued): CompactJWSHeaderParameters {
  const der = new X509Certificate(issued.credentials.certificatePem).raw;
  return { alg: 'RS256', typ: 'gateway-consent+jwt', kid: issued.credentials.participantId, 'x5t#S256': createHash('sha256').update(der).digest('base64url'), x5c: [der.toString('base64')] };
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The GatewayError a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected the consent to be refused');
}

describe('consent/artefact', function () {
  this.timeout(30_000);
  let ca: CertificateAuthority;
  /** Another CA with the same names as `ca`: what an attacker could make. */
  let impostorCa: CertificateAuthority;
  let enterprise: Issued;
  let enterpriseKey: KeyPair;
  /** Another key: the one an impostor or another participant signs with. */
  let otherKey: KeyPair;

  before(function () {
    ca = createCertificateAuthority({ commonName: CA_NAME });
    impostorCa = createCertificateAuthority({ commonName: CA_NAME });
    enterpriseKey = generateRsaKeyPair();
    otherKey = generateRsaKeyPair();
    enterprise = issue(ca, enterpriseKey);
  });

  describe('verifyConsentOffline(token, caCertificatePem)', function () {
    describe('a consent signed by the enterprise with the certificate the CA issued it', function () {
      it('is valid, and answers its claims and the certificate\'s SHA-256', async function () {
        const token = await consentOf(enterprise);
        const verified = await verifyConsentOffline(token, ca.certificatePem);
        expect(verified.claims).to.deep.equal(claimsOf(token));
        expect(verified.claims).to.include({ iss: ENTERPRISE_ID, sub: USCC, aud: BANK_ID, purpose: 'loan_approval', max_uses: 10 });
        const der = new X509Certificate(enterprise.credentials.certificatePem).raw;
        expect(verified.certificateSha256).to.equal(createHash('sha256').update(der).digest('base64url'));
      });

      it('is valid signed PS256 too', async function () {
        const token = await handSigned(enterprise.credentials.privateKeyPem, { ...consentHeader(enterprise), alg: 'PS256' }, claimsOf(await consentOf(enterprise)));
        expect((await verifyConsentOffline(token, ca.certificatePem)).claims.jti).to.equal('consent-0000000000000001');
      });
    });

    describe('with a tampered payload', function () {
      it('is refused with consent_signature_invalid', async function () {
        const [header, payload, signature] = (await consentOf(enterprise)).split('.') as [string, string, string];
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
        const tampered = Buffer.from(JSON.stringify({ ...claims, aud: 'bank-other', max_uses: 1000 })).toString('base64url');
        const error = await rejection(verifyConsentOffline(`${header}.${tampered}.${signature}`, ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });
    });

    describe('with a tampered signature', function () {
      it('is refused with consent_signature_invalid', async function () {
        const token = await consentOf(enterprise);
        const signature = Buffer.from(token.split('.')[2]!, 'base64url');
        signature[10] = signature[10]! ^ 0x01;
        const error = await rejection(verifyConsentOffline(`${token.split('.').slice(0, 2).join('.')}.${signature.toString('base64url')}`, ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });
    });

    describe('carrying a certificate from another CA with the same names, for the same participant and USCC', function () {
      it('is refused with consent_signature_invalid', async function () {
        const impostor = issue(impostorCa, otherKey);
        // The names are the same: only the signature on the certificate tells the CAs apart.
        expect(new X509Certificate(impostor.credentials.certificatePem).issuer).to.equal(new X509Certificate(enterprise.credentials.certificatePem).issuer);
        const error = await rejection(verifyConsentOffline(await consentOf(impostor), ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });

      it('is valid against that other CA, so it is the CA check that refuses it', async function () {
        const impostor = issue(impostorCa, otherKey);
        expect((await verifyConsentOffline(await consentOf(impostor), impostorCa.certificatePem)).claims.iss).to.equal(ENTERPRISE_ID);
      });
    });

    describe('carrying the CA\'s own certificate', function () {
      it('is refused: the CA is not an enterprise participant', async function () {
        const caAsSigner: Issued = { credentials: { participantId: ENTERPRISE_ID, privateKeyPem: ca.privateKeyPem, certificatePem: ca.certificatePem } };
        const error = await rejection(verifyConsentOffline(await consentOf(caAsSigner), ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });
    });

    describe('carrying the certificate of a bank', function () {
      it('is refused with consent_signature_invalid', async function () {
        const bank = issue(ca, otherKey, { id: ENTERPRISE_ID, role: 'bank', uscc: undefined });
        const error = await rejection(verifyConsentOffline(await consentOf(bank), ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });

      it('is refused with consent_signature_invalid even if the certificate carries the USCC', async function () {
        const bank = issue(ca, otherKey, { id: ENTERPRISE_ID, role: 'bank', uscc: USCC });
        const error = await rejection(verifyConsentOffline(await consentOf(bank), ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });
    });

    describe('carrying the certificate of another enterprise participant, with the issuer\'s id as kid and iss', function () {
      it('is refused with consent_signature_invalid', async function () {
        const other = issue(ca, otherKey, { id: 'enterprise-other', uscc: USCC });
        const claims = claimsOf(await consentOf(enterprise));
        const token = await handSigned(other.credentials.privateKeyPem, { ...consentHeader(other), kid: ENTERPRISE_ID }, claims);
        const error = await rejection(verifyConsentOffline(token, ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });
    });

    describe('whose subject is not the USCC in the certificate', function () {
      it('is refused with consent_subject_mismatch', async function () {
        const error = await rejection(verifyConsentOffline(await consentOf(enterprise, { uscc: OTHER_USCC }), ca.certificatePem));
        expect(error.code).to.equal('consent_subject_mismatch');
      });

      it('is refused with consent_subject_mismatch when the certificate carries no USCC', async function () {
        const bare = issue(ca, enterpriseKey, { uscc: undefined });
        const error = await rejection(verifyConsentOffline(await consentOf(bare), ca.certificatePem));
        expect(error.code).to.equal('consent_subject_mismatch');
      });
    });

    describe('signed outside the certificate\'s validity', function () {
      it('is refused with consent_signature_invalid when iat is before notBefore', async function () {
        // notBefore is five minutes before issue; an hour before is well outside.
        const error = await rejection(verifyConsentOffline(await consentOf(enterprise, { now: new Date(Date.now() - HOUR_MS) }), ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });

      it('is refused with consent_signature_invalid when iat is after notAfter', async function () {
        const shortLived = issue(ca, enterpriseKey, { days: 1 });
        const error = await rejection(verifyConsentOffline(await consentOf(shortLived, { now: new Date(Date.now() + 2 * DAY_MS) }), ca.certificatePem));
        expect(error.code).to.equal('consent_signature_invalid');
      });

      it('is valid when signed within the validity of a certificate that has since expired', async function () {
        const longAgo = new Date(Date.now() - 60 * DAY_MS);
        const expired = issue(ca, enterpriseKey, { days: 30, now: longAgo });
        const token = await consentOf(expired, { now: new Date(longAgo.getTime() + DAY_MS) });
        expect((await verifyConsentOffline(token, ca.certificatePem)).claims.sub).to.equal(USCC);
      });
    });
  });

  describe('parseConsent(token)', function () {
    const claims = () => ({
      jti: 'consent-0000000000000002', iss: ENTERPRISE_ID, sub: USCC, aud: BANK_ID, purpose: 'loan_approval',
      questions: ['medical_arrears_now'], iat: 1_760_000_000, nbf: 1_760_000_000, exp: 1_760_086_400,
    });
    const cases: ReadonlyArray<{ readonly why: string; readonly token: () => Promise<string> }> = [
      { why: 'a string that is not a JWS', token: async () => 'not a consent' },
      { why: 'three parts that are not base64url JSON', token: async () => 'abc.def.ghi' },
      { why: 'a header typ of JWT', token: () => handSigned(enterprise.credentials.privateKeyPem, { ...consentHeader(enterprise), typ: 'JWT' }, claims()) },
      { why: 'no x5c', token: () => handSigned(enterprise.credentials.privateKeyPem, { ...consentHeader(enterprise), x5c: undefined }, claims()) },
      {
        why: 'two certificates in x5c',
        token: () => handSigned(enterprise.credentials.privateKeyPem, { ...consentHeader(enterprise), x5c: [...consentHeader(enterprise).x5c!, ...consentHeader(enterprise).x5c!] }, claims()),
      },
      { why: 'an x5c that is not a certificate', token: () => handSigned(enterprise.credentials.privateKeyPem, { ...consentHeader(enterprise), x5c: ['AAAA'] }, claims()) },
      { why: 'alg HS256', token: () => new CompactSign(Buffer.from(JSON.stringify(claims()))).setProtectedHeader({ ...consentHeader(enterprise), alg: 'HS256' }).sign(new Uint8Array(32).fill(7)) },
      {
        why: 'alg none',
        token: async () => `${Buffer.from(JSON.stringify({ ...consentHeader(enterprise), alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`,
      },
      { why: 'a payload that is not JSON', token: () => handSigned(enterprise.credentials.privateKeyPem, consentHeader(enterprise), 'not json') },
      { why: 'an unknown purpose', token: () => handSigned(enterprise.credentials.privateKeyPem, consentHeader(enterprise), { ...claims(), purpose: 'marketing' }) },
      { why: 'an extra claim', token: () => handSigned(enterprise.credentials.privateKeyPem, consentHeader(enterprise), { ...claims(), scope: 'everything' }) },
      { why: 'no questions', token: () => handSigned(enterprise.credentials.privateKeyPem, consentHeader(enterprise), { ...claims(), questions: [] }) },
      { why: 'iss other than kid', token: () => handSigned(enterprise.credentials.privateKeyPem, consentHeader(enterprise), { ...claims(), iss: 'enterprise-other' }) },
    ];
    for (const { why, token } of cases) {
      it(`refuses ${why} with consent_malformed`, async function () {
        const error = await rejection(parseConsent(await token()));
        expect(error.code, error.message).to.equal('consent_malformed');
      });
    }

    it('does not check who the certificate belongs to: that is the caller\'s check', async function () {
      const impostor = issue(impostorCa, otherKey);
      const parsed = await parseConsent(await consentOf(impostor));
      expect(parsed.participantId).to.equal(ENTERPRISE_ID);
      expect(new X509Certificate(parsed.certificatePem).raw.equals(new X509Certificate(impostor.credentials.certificatePem).raw)).to.equal(true);
    });
  });
});
