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
export function pemToDer(pem: string): Uint8Array<ArrayBuffer> {
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

export interface Enrolment {
  readonly identity: Identity;
  /** The PKCS#12 backup, when one was asked for and could be written. */
  readonly backup: Uint8Array<ArrayBuffer> | undefined;
}

/**
 * Enrolment: a new RSA key pair, a proof of possession over the one-time code, and the certificate the platform CA
 * issues for the public half. Only the public key and the proof are sent. Without a backup password the private
 * key is non-extractable from its birth. With one, it is made extractable only so that it can be written once, with
 * its new certificate, into a PKCS#12 file under that password: it is then imported again, non-extractable, and
 * the extractable key and its exported bytes are dropped, so that what is kept in IndexedDB is never exportable.
 */
export async function enrol(code: string, backupPassword?: string): Promise<Enrolment> {
  const pair = await crypto.subtle.generateKey(RSA, backupPassword !== undefined, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const proof = await signEnrolmentProof(pair.privateKey, { kty: jwk.kty!, n: jwk.n!, e: jwk.e! }, { code, audience: await gatewayId() });
  const enrolled = await answer<Enrolled>(await fetch('/v1/enrolments', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ proof }),
  }));
  const identity = (privateKey: CryptoKey): Identity => ({
    participantId: enrolled.participant_id, role: 'enterprise', name: enrolled.name, uscc: enrolled.uscc,
    certificatePem: enrolled.certificate, certificateSha256: enrolled.certificate_sha256, privateKey,
  });
  if (backupPassword === undefined) return { identity: identity(pair.privateKey), backup: undefined };
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  try {
    // The kept key first: the code is used now, so a backup that fails must not lose the enrolment with it.
    const kept = identity(await crypto.subtle.importKey('pkcs8', pkcs8, RSA, false, ['sign']));
    try {
      const { writePkcs12 } = await import('./pkcs12.js');
      return { identity: kept, backup: writePkcs12(pkcs8, enrolled.certificate, backupPassword, enrolled.participant_id) };
    } catch {
      return { identity: kept, backup: undefined };
    }
  } finally {
    pkcs8.fill(0);
  }
}

/**
 * A key as PKCS#8 DER and its certificate, imported as a non-extractable key, then checked by asking the gateway
 * who it is, in a request signed with it. Name and USCC are the certificate's (the CA wrote them).
 */
async function checkedIdentity(participantId: string, pkcs8: Uint8Array<ArrayBuffer>, certificatePem: string): Promise<Identity> {
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, RSA, false, ['sign']);
  } catch {
    throw new PortalError('key_unreadable', 'the key is not an RSA private key in PKCS#8');
  }
  const { certificateSubject } = await import('./pkcs12.js');
  const subject = certificateSubject(certificatePem);
  const provisional = {
    participantId, role: '', name: subject.name, uscc: subject.uscc, certificatePem, certificateSha256: await sha256Base64urlOf(pemToDer(certificatePem)), privateKey,
  };
  const self = await signedCall<{ role: string }>(provisional, 'GET', `/v1/participants/${encodeURIComponent(participantId)}/certificate`);
  return { ...provisional, role: self.role };
}

/** An existing key as `gateway participants add --generate` writes it (PKCS#8 PEM), and its certificate. */
export async function importIdentity(participantId: string, privateKeyPem: string, certificatePem: string): Promise<Identity> {
  let pkcs8: Uint8Array<ArrayBuffer>;
  try {
    pkcs8 = pemToDer(privateKeyPem);
  } catch {
    throw new PortalError('key_unreadable', 'the key file is not an RSA private key in PKCS#8 PEM');
  }
  return checkedIdentity(participantId, pkcs8, certificatePem);
}

/** A PKCS#12 file (.p12/.pfx: a backup made at enrolment, or one from another tool) and its password. */
export async function importPkcs12(file: Uint8Array, password: string): Promise<Identity> {
  const { readPkcs12 } = await import('./pkcs12.js');
  const contents = readPkcs12(file, password);
  try {
    return await checkedIdentity(contents.subject.participantId, contents.pkcs8, contents.certificatePem);
  } finally {
    contents.pkcs8.fill(0);
  }
}
