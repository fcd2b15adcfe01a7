/**
 * The portal's calls to the gateway: every one but enrolment is a signed request, signed here in the browser with
 * the identity's non-extractable key by the same code the server's client uses (crypto/participantTokens.ts).
 * Refusals arrive as RFC 9457 problems and are thrown as PortalError with their stable code.
 */
import { sha256Base64urlOf, signEnrolmentProof, signRequestToken } from '../../crypto/participantTokens.js';
import type { Identity } from './keystore.js';

export class PortalError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'PortalError';
    this.code = code;
  }
}

let audience: Promise<string> | undefined;

/** The gateway's id, the `aud` of every signature, from its public discovery document. */
function gatewayId(): Promise<string> {
  audience ??= fetch('/.well-known/credit-gateway').then(async (response) => {
    if (!response.ok) throw new PortalError('gateway_unreachable', 'the discovery document could not be read');
    return ((await response.json()) as { gateway_id: string }).gateway_id;
  });
  return audience;
}

async function answer<T>(response: Response): Promise<T> {
  const type = response.headers.get('content-type') ?? '';
  if (!response.ok) {
    if (type.startsWith('application/problem+json')) {
      const problem = (await response.json()) as { code: string; detail?: string; title?: string };
      throw new PortalError(problem.code, problem.detail ?? problem.title ?? problem.code);
    }
    throw new PortalError('http_error', `HTTP ${response.status}`);
  }
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

const encoder = new TextEncoder();

/** A signed request: the body is encoded once, and those bytes are both hashed and sent. */
export async function signedCall<T>(identity: Identity, method: string, path: string, body?: unknown): Promise<T> {
  const bytes = body === undefined ? new Uint8Array(0) : encoder.encode(JSON.stringify(body));
  const token = await signRequestToken(identity.privateKey, identity, { method, path, body: bytes, audience: await gatewayId() });
  const headers: Record<string, string> = { Authorization: `JWS ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return answer<T>(await fetch(path, { method, headers, ...(body === undefined ? {} : { body: bytes }), cache: 'no-store' }));
}

export async function publicCall<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { cache: 'no-store' }));
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as const;

/** The DER bytes of a PEM certificate. */
export function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(body), (character) => character.charCodeAt(0));
}

interface Enrolled {
  participant_id: string;
  uscc: string;
  name: string;
  certificate: string;
  certificate_sha256: string;
}

/**
 * Enrolment: a new RSA key pair whose private half cannot be exported, a proof of possession over the one-time code,
 * and the certificate the platform CA issues for the public half. Only the public key and the proof are sent.
 */
export async function enrol(code: string): Promise<Identity> {
  const pair = await crypto.subtle.generateKey(RSA, false, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const proof = await signEnrolmentProof(pair.privateKey, { kty: jwk.kty!, n: jwk.n!, e: jwk.e! }, { code, audience: await gatewayId() });
  const enrolled = await answer<Enrolled>(await fetch('/v1/enrolments', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ proof }),
  }));
  return {
    participantId: enrolled.participant_id, role: 'enterprise', name: enrolled.name, uscc: enrolled.uscc,
    certificatePem: enrolled.certificate, certificateSha256: enrolled.certificate_sha256, privateKey: pair.privateKey,
  };
}

/**
 * An existing key (PKCS#8 PEM, as `gateway participants add --generate` writes it) and its certificate: imported
 * as a non-extractable key, then checked by asking the gateway who it is, in a request signed with it.
 */
export async function importIdentity(participantId: string, privateKeyPem: string, certificatePem: string): Promise<Identity> {
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', pemToDer(privateKeyPem) as Uint8Array<ArrayBuffer>, RSA, false, ['sign']);
  } catch {
    throw new PortalError('key_unreadable', 'the key file is not an RSA private key in PKCS#8 PEM');
  }
  const provisional = {
    participantId, role: '', name: '', uscc: null, certificatePem, certificateSha256: await sha256Base64urlOf(pemToDer(certificatePem)), privateKey,
  };
  const self = await signedCall<{ role: string }>(provisional, 'GET', `/v1/participants/${encodeURIComponent(participantId)}/certificate`);
  return { ...provisional, role: self.role, name: participantId };
}
