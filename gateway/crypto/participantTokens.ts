/**
 * The tokens a participant signs, built the same way on the server (the client library, with a KeyObject) and in
 * the portal's browser (with a non-extractable WebCrypto key): a signed request (docs/request-signing.md), a consent
 * (docs/consent.md) and an enrolment proof of possession (docs/portal.md). It uses jose and WebCrypto's digest
 * only, nothing of Node, so the portal bundles this very file and the two cannot drift.
 */
import { base64url, CompactSign } from 'jose';

/** What jose signs with: a KeyObject on the server, a CryptoKey in the browser. */
export type SigningKey = Parameters<CompactSign['sign']>[0];

/** Algorithms a participant may sign with (RSA: the platform CA issues RSA certificates only). */
export type ParticipantAlgorithm = 'RS256' | 'PS256';

/** The protocol's `typ` values (identity/protocol.ts re-exports them for the server). */
export const REQUEST_TYPE = 'gateway-request+jwt';
export const CONSENT_TYPE = 'gateway-consent+jwt';
export const ENROLMENT_TYPE = 'gateway-enrolment+jwt';

const encoder = new TextEncoder();

/** base64url (no padding) SHA-256, through WebCrypto (also global in Node 20). */
export async function sha256Base64urlOf(data: Uint8Array): Promise<string> {
  return base64url.encode(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)));
}

function sign(claims: object, header: Record<string, unknown>, key: SigningKey): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader(header as { alg: string }).sign(key);
}

export interface SignerIdentity {
  readonly participantId: string;
  /** base64url SHA-256 of the certificate's DER (`x5t#S256`). */
  readonly certificateSha256: string;
}

export interface RequestClaimsInput {
  readonly method: string;
  /** Path and query exactly as they will be sent on the request line. */
  readonly path: string;
  readonly body: Uint8Array;
  readonly audience: string;
  readonly algorithm?: ParticipantAlgorithm | undefined;
  readonly lifetimeSeconds?: number | undefined;
  readonly now?: Date | undefined;
  readonly jti?: string | undefined;
}

/** The compact JWS for the Authorization header (`Authorization: JWS <this>`). */
export async function signRequestToken(key: SigningKey, signer: SignerIdentity, request: RequestClaimsInput): Promise<string> {
  const iat = Math.floor((request.now ?? new Date()).getTime() / 1000);
  const header = { alg: request.algorithm ?? 'RS256', typ: REQUEST_TYPE, kid: signer.participantId, 'x5t#S256': signer.certificateSha256 };
  const claims = {
    iss: signer.participantId,
    aud: request.audience,
    method: request.method.toUpperCase(),
    path: request.path,
    body_sha256: await sha256Base64urlOf(request.body),
    iat,
    exp: iat + (request.lifetimeSeconds ?? 60),
    jti: request.jti ?? globalThis.crypto.randomUUID(),
  };
  return sign(claims, header, key);
}

export type ConsentPurpose = 'customer_screening' | 'pre_loan_investigation' | 'loan_approval' | 'post_loan_management';

export interface ConsentInput {
  /** The enterprise's USCC (the consent's subject). */
  readonly uscc: string;
  /** The bank participant's id. */
  readonly bank: string;
  readonly purpose: ConsentPurpose;
  /** Question ids or question pack names. */
  readonly questions: readonly string[];
  readonly days: number;
  readonly maxUses?: number | undefined;
  readonly replaces?: string | undefined;
  readonly consentId?: string | undefined;
  readonly now?: Date | undefined;
}

/** The consent's claims, exactly as signed: the portal previews these before the enterprise signs them. */
export function consentClaims(participantId: string, consent: ConsentInput) {
  const now = Math.floor((consent.now ?? new Date()).getTime() / 1000);
  return {
    jti: consent.consentId ?? globalThis.crypto.randomUUID(),
    iss: participantId,
    sub: consent.uscc,
    aud: consent.bank,
    purpose: consent.purpose,
    questions: [...consent.questions],
    iat: now,
    nbf: now,
    exp: now + consent.days * 86_400,
    ...(consent.maxUses === undefined ? {} : { max_uses: consent.maxUses }),
    ...(consent.replaces === undefined ? {} : { replaces: consent.replaces }),
  };
}

/** A consent: a compact JWS carrying the enterprise's certificate (`x5c`, standard base64 DER). */
export async function signConsentToken(key: SigningKey, participantId: string, certificateDer: Uint8Array, claims: ReturnType<typeof consentClaims>): Promise<string> {
  const header = {
    alg: 'RS256', typ: CONSENT_TYPE, kid: participantId,
    'x5t#S256': await sha256Base64urlOf(certificateDer), x5c: [standardBase64(certificateDer)],
  };
  return sign(claims, header, key);
}

/** The enrolment proof: signed by the new key over the one-time code, carrying that key's public JWK. */
export function signEnrolmentProof(key: SigningKey, publicJwk: { kty: string; n: string; e: string }, request: { code: string; audience: string; now?: Date | undefined }): Promise<string> {
  const iat = Math.floor((request.now ?? new Date()).getTime() / 1000);
  return sign({ aud: request.audience, code: request.code, iat, exp: iat + 60 }, {
    alg: 'RS256', typ: ENROLMENT_TYPE, jwk: { kty: publicJwk.kty, n: publicJwk.n, e: publicJwk.e },
  }, key);
}

function standardBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
