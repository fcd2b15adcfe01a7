/**
 * The consent artefact: a compact JWS signed by the enterprise participant's key, carrying its certificate (x5c)
 * so that anyone holding the platform CA certificate can check, offline, that the enterprise named in it signed it
 * (`gateway consent verify`). Parsing is strict: the token comes from outside.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import fs from 'node:fs';
import path from 'node:path';
import { decodeJwsHeader, JwsError, publicKeyFromPem, REQUEST_ALGORITHMS, sha256Base64url, verifyJws } from '../crypto/jws.js';
import { certificateFacts, isIssuedBy } from '../crypto/x509.js';
import { GatewayError } from '../errors/index.js';
import { CONSENT_TYPE } from '../identity/protocol.js';
import { schemasDir } from '../paths.js';
import type { Purpose } from '../policies/definition.js';

export { PURPOSES } from '../policies/definition.js';

export interface ConsentClaims {
  readonly jti: string;
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly purpose: Purpose;
  readonly questions: readonly string[];
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly max_uses?: number;
  readonly replaces?: string;
}

export interface ParsedConsent {
  readonly claims: ConsentClaims;
  readonly participantId: string;
  /** The certificate in x5c[0], as PEM. */
  readonly certificatePem: string;
  /** base64url SHA-256 of that certificate's DER. */
  readonly certificateSha256: string;
}

let compiledClaimsValidator: ValidateFunction<ConsentClaims> | undefined;

/** Compiled on first use rather than at import, so that a command that never sees a consent does not pay for it. */
function claimsValidator(): ValidateFunction<ConsentClaims> {
  compiledClaimsValidator ??= new Ajv2020({ strict: true, allErrors: false })
    .compile<ConsentClaims>(JSON.parse(fs.readFileSync(path.join(schemasDir, 'api', 'consent.v1.json'), 'utf8')) as object);
  return compiledClaimsValidator;
}

function malformed(detail: string): GatewayError {
  return new GatewayError('consent_malformed', detail);
}

function pemOf(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * Verifies the JWS with the key of the certificate it carries and validates the claims against
 * schemas/api/consent.v1.json. Who that certificate belongs to is the caller's check.
 */
export async function parseConsent(token: string): Promise<ParsedConsent> {
  if (typeof token !== 'string' || token.length > 64 * 1024) throw malformed('the consent must be a compact JWS string');
  let header;
  try {
    header = decodeJwsHeader(token);
  } catch {
    throw malformed('the consent is not a compact JWS');
  }
  if (typeof header.alg !== 'string' || !(REQUEST_ALGORITHMS as readonly string[]).includes(header.alg)) {
    throw malformed(`the consent's algorithm must be one of ${REQUEST_ALGORITHMS.join(', ')}`);
  }
  if (header.typ !== CONSENT_TYPE) throw malformed(`the consent's header "typ" must be "${CONSENT_TYPE}"`);
  const chain = header.x5c;
  if (typeof header.kid !== 'string' || !Array.isArray(chain) || chain.length !== 1 || typeof chain[0] !== 'string') {
    throw malformed('the consent header must carry "kid" (the enterprise participant id) and "x5c" (its certificate)');
  }
  const der = Buffer.from(chain[0], 'base64');
  let certificatePem: string;
  let facts;
  try {
    certificatePem = pemOf(der);
    facts = certificateFacts(certificatePem);
  } catch {
    throw malformed('the consent\'s x5c does not hold a certificate');
  }
  let payload: Uint8Array;
  try {
    payload = await verifyJws(token, publicKeyFromPem(facts.publicKeyPem), REQUEST_ALGORITHMS);
  } catch (error) {
    if (error instanceof JwsError) throw new GatewayError('consent_signature_invalid', 'the consent\'s signature does not verify with the certificate it carries');
    throw error;
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw malformed('the consent payload is not JSON');
  }
  const validateClaims = claimsValidator();
  if (!validateClaims(claims)) {
    const first = validateClaims.errors?.[0];
    throw malformed(`the consent does not match schemas/api/consent.v1.json: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim());
  }
  if (claims.iss !== header.kid) throw malformed('claim "iss" must equal the header "kid"');
  return { claims, participantId: header.kid, certificatePem, certificateSha256: sha256Base64url(der) };
}

export interface OfflineVerification {
  readonly claims: ConsentClaims;
  readonly certificateSha256: string;
}

/**
 * The auditor's check, with nothing but the platform CA certificate: the consent's certificate was issued by the
 * platform CA to an enterprise participant whose id is the issuer and whose USCC is the subject, was valid when
 * the consent was signed, and its key signed the consent.
 */
export async function verifyConsentOffline(token: string, caCertificatePem: string): Promise<OfflineVerification> {
  const parsed = await parseConsent(token);
  checkCertificate(parsed, caCertificatePem);
  return { claims: parsed.claims, certificateSha256: parsed.certificateSha256 };
}

/** The certificate half of the offline check, on a consent parseConsent has already verified. */
export function checkCertificate(parsed: ParsedConsent, caCertificatePem: string): void {
  const facts = certificateFacts(parsed.certificatePem);
  if (!isIssuedBy(caCertificatePem, parsed.certificatePem)) {
    throw new GatewayError('consent_signature_invalid', 'the consent\'s certificate was not issued by this platform CA');
  }
  if (facts.role !== 'enterprise' || facts.participantId !== parsed.claims.iss) {
    throw new GatewayError('consent_signature_invalid', 'the consent\'s certificate is not the issuing enterprise participant\'s');
  }
  if (facts.uscc !== parsed.claims.sub) {
    throw new GatewayError('consent_subject_mismatch', 'the consent\'s subject is not the USCC in the enterprise\'s certificate');
  }
  const signedAt = parsed.claims.iat * 1000;
  if (signedAt < facts.notBefore.getTime() || signedAt > facts.notAfter.getTime()) {
    throw new GatewayError('consent_signature_invalid', 'the consent was signed outside its certificate\'s validity');
  }
}
