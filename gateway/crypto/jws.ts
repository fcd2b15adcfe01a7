/**
 * Compact JWS, through jose: the only place that signs or verifies one. Participants sign requests with the RSA key
 * of their platform certificate (RS256 or PS256); the gateway signs what it says with ES256 keys published as a JWKS.
 * Callers get a JwsError with a reason instead of jose's error classes, so nothing else imports jose.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import {
  calculateJwkThumbprint, CompactSign, compactVerify, createLocalJWKSet, decodeProtectedHeader, EmbeddedJWK, errors, exportJWK,
  generateKeyPair, importSPKI,
} from 'jose';
import type { CompactJWSHeaderParameters, JSONWebKeySet, JWK } from 'jose';

export type { JSONWebKeySet, JWK };

/** Algorithms a participant may sign requests with: the RSA algorithms every JOSE library has (see docs/request-signing.md). */
export const REQUEST_ALGORITHMS = ['RS256', 'PS256'] as const;
/** The gateway's own signatures: ES256, the cheapest to sign and verify here and verified by every JOSE stack. */
export const GATEWAY_ALGORITHM = 'ES256';

export type JwsFailure = 'malformed' | 'algorithm' | 'signature';

export class JwsError extends Error {
  readonly reason: JwsFailure;

  constructor(reason: JwsFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwsError';
    this.reason = reason;
  }
}

export type JwsHeader = CompactJWSHeaderParameters & Record<string, unknown>;

// Three parts, the signature not empty: an unsecured (`alg: none`) token, or a signed one stripped of its signature,
// is refused for its shape before anything in it is read.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

/** The protected header, decoded without verifying anything: only to find the key to verify with. */
export function decodeJwsHeader(token: string): JwsHeader {
  if (!COMPACT_JWS.test(token)) throw new JwsError('malformed', 'not a compact JWS');
  try {
    return decodeProtectedHeader(token) as JwsHeader;
  } catch (cause) {
    throw new JwsError('malformed', 'the protected header is not base64url JSON', { cause });
  }
}

/** A public key ready for WebCrypto verification with one algorithm. */
export type VerificationKey = Awaited<ReturnType<typeof importSPKI>>;

/**
 * Imports an SPKI public key for one algorithm. Worth caching: jose would otherwise convert a KeyObject into a
 * WebCrypto key on every verification, which costs more than the RSA verification itself.
 */
export function importVerificationKey(spkiPem: string, algorithm: string): Promise<VerificationKey> {
  return importSPKI(spkiPem, algorithm);
}

/** Verifies a compact JWS with one key and an algorithm allow-list; returns the payload bytes. */
export async function verifyJws(token: string, key: KeyObject | VerificationKey, algorithms: readonly string[]): Promise<Uint8Array> {
  try {
    const { payload } = await compactVerify(token, key, { algorithms: [...algorithms] });
    return payload;
  } catch (error) {
    throw asJwsError(error);
  }
}

export async function signJws(payload: Uint8Array, header: JwsHeader, key: KeyObject): Promise<string> {
  return new CompactSign(payload).setProtectedHeader(header).sign(key);
}

/** Verifies a JWS the gateway signed, against its published key set; returns header and payload bytes. */
export async function verifyWithKeySet(token: string, keySet: JSONWebKeySet): Promise<{ header: JwsHeader; payload: Uint8Array }> {
  try {
    const { payload, protectedHeader } = await compactVerify(token, createLocalJWKSet(keySet), { algorithms: [GATEWAY_ALGORITHM] });
    return { header: protectedHeader as JwsHeader, payload };
  } catch (error) {
    throw asJwsError(error);
  }
}

/** Algorithms another party's signatures may use (the national platform's receipts): asymmetric ones only. */
export const PEER_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'PS256', 'RS256'] as const;

/** Verifies a JWS another party signed, against the key set it gave out; returns header and payload bytes. */
export async function verifyWithPeerKeys(token: string, keySet: JSONWebKeySet): Promise<{ header: JwsHeader; payload: Uint8Array }> {
  decodeJwsHeader(token);
  try {
    const { payload, protectedHeader } = await compactVerify(token, createLocalJWKSet(keySet), { algorithms: [...PEER_ALGORITHMS] });
    return { header: protectedHeader as JwsHeader, payload };
  } catch (error) {
    throw asJwsError(error);
  }
}

/**
 * Verifies a JWS against the public key in its own `jwk` header (a proof of possession: the signer shows it holds
 * the private key of the public key it presents). Returns the payload and that key as SPKI PEM.
 */
export async function verifyWithEmbeddedKey(token: string, algorithms: readonly string[]): Promise<{ payload: Uint8Array; publicKeyPem: string }> {
  const header = decodeJwsHeader(token);
  // Attacker-controlled: only a public RSA key is taken, never one that carries private members.
  const jwk = header.jwk as Record<string, unknown> | undefined;
  if (!jwk || jwk['kty'] !== 'RSA' || 'd' in jwk) throw new JwsError('malformed', 'the header "jwk" must be a public RSA key');
  try {
    const { payload } = await compactVerify(token, EmbeddedJWK, { algorithms: [...algorithms] });
    const publicKeyPem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    return { payload, publicKeyPem };
  } catch (error) {
    throw asJwsError(error);
  }
}

function asJwsError(error: unknown): JwsError {
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new JwsError('algorithm', 'the signature algorithm is not allowed', { cause: error });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
    return new JwsError('signature', 'the signature does not verify', { cause: error });
  }
  if (error instanceof errors.JOSEError || error instanceof TypeError) {
    return new JwsError('malformed', 'the JWS is malformed', { cause: error });
  }
  throw error;
}

/** base64url (no padding) SHA-256: the form of body hashes and certificate thumbprints in signed requests. */
export function sha256Base64url(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('base64url');
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

export interface GatewaySigningKey {
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  readonly privateJwk: JWK;
}

export async function generateGatewaySigningKey(): Promise<GatewaySigningKey> {
  const { privateKey } = await generateKeyPair(GATEWAY_ALGORITHM, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  return { kid: await jwkThumbprint(publicJwkOf(privateJwk)), privateJwk };
}

export function publicJwkOf(privateJwk: JWK): JWK {
  const { kty, crv, x, y } = privateJwk;
  return { kty, crv, x, y } as JWK;
}

export function jwkThumbprint(publicJwk: JWK): Promise<string> {
  return calculateJwkThumbprint(publicJwk, 'sha256');
}

export function privateKeyFromJwk(privateJwk: JWK): KeyObject {
  return createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' });
}
