/**
 * Authenticates a signed request (docs/request-signing.md): `Authorization: JWS <compact JWS>`, signed with the key
 * of the participant's platform certificate, bound to this gateway, the method, the exact request target and the
 * exact body bytes, short-lived and never accepted twice. Each way a request can fail has its own error code, and
 * a request that fails leaves nothing behind (its jti is remembered only once every other check has passed).
 *
 * Everything in the header and the token is attacker-controlled until the signature has been verified: before
 * that, the header is used only to pick the certificate, and nothing from the payload is used at all.
 */
import { decodeJwsHeader, importVerificationKey, JwsError, REQUEST_ALGORITHMS, sha256Base64url, verifyJws } from '../crypto/jws.js';
import type { VerificationKey } from '../crypto/jws.js';
import { sha256Hex } from '../crypto/index.js';
import { certificateFacts, isIssuedBy } from '../crypto/x509.js';
import { GatewayError } from '../errors/index.js';
import type { ErrorCode } from '../errors/index.js';
import type { IdentityStore, ParticipantRecord, ParticipantRole } from '../store/index.js';
import { AUTHORIZATION_SCHEME, MAX_REQUEST_LIFETIME_SECONDS, REQUEST_TYPE } from './protocol.js';
import type { ReplayGuard } from './replayGuard.js';

const JTI = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_TOKEN_LENGTH = 16 * 1024;

/** What a request's signature is checked against before its body is read. */
export interface SignedRequestHead {
  /** Every Authorization header the request carries (more than one is refused). */
  readonly authorization: readonly string[] | string | undefined;
  /** The HTTP method as received. */
  readonly method: string;
  /** The request target exactly as sent on the request line: path and query. */
  readonly target: string;
  /** x5t#S256 of the TLS client certificate, when mutual TLS presented one. */
  readonly tlsClientThumbprint?: string | undefined;
}

export interface SignedRequest extends SignedRequestHead {
  /** The exact body bytes (empty when there is no body). */
  readonly body: Uint8Array;
}

/**
 * A request whose header, certificate and signature have been checked, and whose body has not been read yet: the
 * HTTP layer reads the body only for one of these, hashing it as it streams.
 */
export interface PendingRequest {
  readonly principal: Principal;
  /** Checks the body's SHA-256 (base64url) against the signed one, then remembers the jti: only now is it authenticated. */
  complete(bodySha256: string): Promise<Principal>;
}

/** Who made an authenticated request, and the facts the audit log will want about it. */
export interface Principal {
  readonly participantId: string;
  readonly role: ParticipantRole;
  readonly name: string;
  readonly uscc: string | undefined;
  readonly datasets: readonly string[];
  readonly certificateSha256: string;
  readonly jti: string;
  /** SHA-256 (hex) of the compact JWS: what the audit log records as the signed request. */
  readonly requestSha256: string;
}

export interface RequestAuthenticator {
  /** Everything but the body: the header, the certificate, the signature over the claims, the claims, the role. */
  authenticateHead(request: SignedRequestHead, allowedRoles: readonly ParticipantRole[]): Promise<PendingRequest>;
  /** authenticateHead, then complete with the hash of a body already in hand. */
  authenticate(request: SignedRequest, allowedRoles: readonly ParticipantRole[]): Promise<Principal>;
}

export interface AuthenticatorDependencies {
  readonly store: IdentityStore;
  readonly caCertificatePem: string;
  readonly audience: string;
  readonly clockSkewSeconds: number;
  readonly replayGuard: ReplayGuard;
  readonly nowSeconds: () => number;
}

interface RequestClaims {
  readonly iss: string;
  readonly aud: string;
  readonly method: string;
  readonly path: string;
  readonly body_sha256: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

interface CertificateKey {
  readonly publicKeyPem: string;
  /** Imported per algorithm on first use. */
  readonly imported: Map<string, Promise<VerificationKey>>;
  readonly trusted: boolean;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly thumbprint: string;
}

function refuse(code: ErrorCode, detail: string): GatewayError {
  return new GatewayError(code, detail);
}

function tokenOf(headers: readonly string[] | string | undefined): string {
  // Node keeps the first of several Authorization headers and a proxy may keep the last: with two, the gateway and
  // the proxy in front of it could disagree on who is asking, so a request carries exactly one.
  if (Array.isArray(headers) && headers.length > 1) {
    throw refuse('signature_malformed', 'the request carries more than one Authorization header; send exactly one');
  }
  const authorization = Array.isArray(headers) ? headers[0] : headers as string | undefined;
  if (authorization === undefined || authorization === '') {
    throw refuse('signature_missing', `sign the request: Authorization: ${AUTHORIZATION_SCHEME} <compact JWS>`);
  }
  const [scheme, token, ...rest] = authorization.split(' ');
  if (scheme !== AUTHORIZATION_SCHEME || token === undefined || rest.length > 0 || token.length > MAX_TOKEN_LENGTH) {
    throw refuse('signature_malformed', `the Authorization header must be "${AUTHORIZATION_SCHEME} <compact JWS>"`);
  }
  return token;
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

function parseClaims(payload: Uint8Array): RequestClaims {
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw refuse('signature_malformed', 'the JWS payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw refuse('signature_malformed', 'the JWS payload is not a JSON object');
  const c = claims as Record<string, unknown>;
  for (const name of ['iss', 'aud', 'method', 'path', 'body_sha256', 'jti'] as const) {
    if (typeof c[name] !== 'string') throw refuse('signature_malformed', `claim "${name}" must be a string`);
  }
  for (const name of ['iat', 'exp'] as const) {
    if (!isInteger(c[name])) throw refuse('signature_malformed', `claim "${name}" must be an integer (seconds since the epoch)`);
  }
  if (!JTI.test(c['jti'] as string)) throw refuse('signature_malformed', 'claim "jti" must be 16-128 characters of A-Z a-z 0-9 _ -');
  return c as unknown as RequestClaims;
}

export function createRequestAuthenticator(deps: AuthenticatorDependencies): RequestAuthenticator {
  const keys = new Map<string, CertificateKey>();

  /** The registered certificate's key, checked against the platform CA once and then cached by thumbprint. */
  function certificateKey(participant: ParticipantRecord): CertificateKey {
    const cached = keys.get(participant.certificateSha256);
    if (cached) return cached;
    const facts = certificateFacts(participant.certificatePem);
    const entry: CertificateKey = {
      publicKeyPem: facts.publicKeyPem,
      imported: new Map(),
      trusted: facts.sha256Thumbprint === participant.certificateSha256 && isIssuedBy(deps.caCertificatePem, participant.certificatePem),
      notBefore: Math.floor(facts.notBefore.getTime() / 1000),
      notAfter: Math.floor(facts.notAfter.getTime() / 1000),
      thumbprint: facts.sha256Thumbprint,
    };
    keys.set(participant.certificateSha256, entry);
    return entry;
  }

  async function verifySignature(token: string, certificate: CertificateKey, algorithm: string): Promise<Uint8Array> {
    try {
      let key = certificate.imported.get(algorithm);
      if (!key) {
        key = importVerificationKey(certificate.publicKeyPem, algorithm);
        certificate.imported.set(algorithm, key);
      }
      return await verifyJws(token, await key, REQUEST_ALGORITHMS);
    } catch (error) {
      if (!(error instanceof JwsError)) throw error;
      if (error.reason === 'signature') throw refuse('signature_invalid', 'the signature does not verify with the key of the participant\'s certificate');
      if (error.reason === 'algorithm') throw refuse('algorithm_not_allowed', `the algorithm must be one of ${REQUEST_ALGORITHMS.join(', ')}`);
      throw refuse('signature_malformed', 'the JWS is malformed');
    }
  }

  async function authenticateHead(request: SignedRequestHead, allowedRoles: readonly ParticipantRole[]): Promise<PendingRequest> {
    const token = tokenOf(request.authorization);
    let header;
    try {
      header = decodeJwsHeader(token);
    } catch {
      throw refuse('signature_malformed', 'the Authorization header does not hold a compact JWS with a signature');
    }
    if (typeof header.alg !== 'string' || !(REQUEST_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw refuse('algorithm_not_allowed', `the algorithm must be one of ${REQUEST_ALGORITHMS.join(', ')}`);
    }
    if (header.typ !== REQUEST_TYPE) throw refuse('signature_malformed', `the header "typ" must be "${REQUEST_TYPE}"`);
    // RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand, and this gateway understands none.
    if (header.crit !== undefined) throw refuse('signature_malformed', 'the header must not carry "crit": no extension is understood here');
    const participantId = header.kid;
    const thumbprint = header['x5t#S256'];
    if (typeof participantId !== 'string' || typeof thumbprint !== 'string') {
      throw refuse('signature_malformed', 'the header must carry "kid" (the participant id) and "x5t#S256" (its certificate thumbprint)');
    }

    const participant = await deps.store.getParticipant(participantId);
    if (!participant) throw refuse('participant_unknown', 'no participant has this id');
    if (thumbprint !== participant.certificateSha256) throw refuse('certificate_unknown', 'the certificate is not the one registered for this participant');
    const certificate = certificateKey(participant);
    if (!certificate.trusted) throw refuse('certificate_untrusted', 'the registered certificate was not issued by the platform CA');
    if (request.tlsClientThumbprint !== undefined && request.tlsClientThumbprint !== certificate.thumbprint) {
      throw refuse('client_certificate_mismatch', 'the TLS client certificate belongs to someone else than the request signer');
    }

    const claims = parseClaims(await verifySignature(token, certificate, header.alg));
    // From here on the claims are the participant's own words.
    if (participant.status === 'revoked') throw refuse('participant_revoked', 'the participant is revoked');
    if (participant.status === 'suspended') throw refuse('participant_suspended', 'the participant is suspended');
    const now = deps.nowSeconds();
    const skew = deps.clockSkewSeconds;
    if (now + skew < certificate.notBefore || now - skew > certificate.notAfter) {
      throw refuse('certificate_expired', 'the participant\'s certificate is not valid now');
    }
    if (claims.iss !== participantId) throw refuse('signature_malformed', 'claim "iss" must equal the header "kid"');
    if (claims.aud !== deps.audience) throw refuse('audience_mismatch', `the request must be signed for audience "${deps.audience}"`);
    if (claims.method !== request.method) throw refuse('method_mismatch', 'claim "method" is not the method of this request');
    if (claims.path !== request.target) throw refuse('path_mismatch', 'claim "path" is not the path and query of this request');
    if (claims.exp <= claims.iat || claims.exp - claims.iat > MAX_REQUEST_LIFETIME_SECONDS) {
      throw refuse('lifetime_too_long', `exp must be after iat and at most ${MAX_REQUEST_LIFETIME_SECONDS} s after it`);
    }
    if (claims.iat > now + skew || claims.exp < now - skew) {
      throw refuse('timestamp_out_of_range', `the signature is not valid now (allowed clock skew ${skew} s)`);
    }
    if (!allowedRoles.includes(participant.role)) throw refuse('role_not_allowed', `this endpoint is for ${allowedRoles.join(', ')} participants`);
    const principal: Principal = {
      participantId,
      role: participant.role,
      name: participant.name,
      uscc: participant.uscc,
      datasets: participant.datasets,
      certificateSha256: participant.certificateSha256,
      jti: claims.jti,
      requestSha256: sha256Hex(token),
    };
    return {
      principal,
      async complete(bodySha256) {
        if (claims.body_sha256 !== bodySha256) throw refuse('body_hash_mismatch', 'claim "body_sha256" is not the SHA-256 of this request\'s body');
        const isNew = await deps.replayGuard.firstSeen({ participantId, jti: claims.jti, expiresAt: claims.exp + skew });
        if (!isNew) throw refuse('request_replayed', 'this jti was already used: sign every request anew');
        return principal;
      },
    };
  }

  return {
    authenticateHead,
    async authenticate(request, allowedRoles) {
      const pending = await authenticateHead(request, allowedRoles);
      return pending.complete(sha256Base64url(request.body));
    },
  };
}
