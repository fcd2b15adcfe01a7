/**
 * A typed client for participants: signs every request as docs/request-signing.md describes, and verifies what the
 * gateway signs against its published JWKS. The `gateway client` commands use it; a bank's engineer can use it as a
 * library, or read it as a reference implementation of the signing rules.
 */
import http from 'node:http';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { GATEWAY_ALGORITHM, privateKeyFromPem, REQUEST_ALGORITHMS, verifyWithKeySet } from '../crypto/jws.js';
import type { JSONWebKeySet } from '../crypto/jws.js';
import { certificateFacts } from '../crypto/x509.js';
import { AUTHORIZATION_SCHEME } from '../identity/protocol.js';
import { consentClaims, signConsentToken, signRequestToken } from '../crypto/participantTokens.js';
import type { ConsentInput } from '../crypto/participantTokens.js';
import type { ReportBundle } from '../reports/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import { GatewayClientError, GatewayUnreachableError } from './errors.js';

export { GatewayClientError, GatewayUnreachableError };
export type RequestAlgorithm = (typeof REQUEST_ALGORITHMS)[number];

export interface ParticipantCredentials {
  readonly participantId: string;
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

export interface RequestToSign {
  readonly method: string;
  /** Path and query exactly as they will be sent on the request line. */
  readonly path: string;
  readonly body: Uint8Array;
  /** The gateway's id (its discovery document's `gateway_id`). */
  readonly audience: string;
  readonly algorithm?: RequestAlgorithm;
  /** Seconds from iat to exp; at most 300. */
  readonly lifetimeSeconds?: number;
  readonly now?: Date;
  readonly jti?: string;
}

export interface RequestSigner {
  /** The compact JWS for the Authorization header (`Authorization: JWS <this>`). */
  sign(request: RequestToSign): Promise<string>;
}

/** Parses the participant's key and certificate once, for signing many requests. */
export function createRequestSigner(credentials: ParticipantCredentials): RequestSigner {
  const key = privateKeyFromPem(credentials.privateKeyPem);
  const signer = { participantId: credentials.participantId, certificateSha256: certificateFacts(credentials.certificatePem).sha256Thumbprint };
  return { sign: (request) => signRequestToken(key, signer, request) };
}

/** The compact JWS for the Authorization header (`Authorization: JWS <this>`). */
export function signRequest(credentials: ParticipantCredentials, request: RequestToSign): Promise<string> {
  return createRequestSigner(credentials).sign(request);
}

export type ConsentToSign = ConsentInput;

/** An enterprise's consent: a compact JWS signed with its key, carrying its certificate (docs/consent.md). */
export function signConsent(credentials: ParticipantCredentials, consent: ConsentToSign): Promise<string> {
  return signConsentToken(privateKeyFromPem(credentials.privateKeyPem), credentials.participantId,
    new X509Certificate(credentials.certificatePem).raw, consentClaims(credentials.participantId, consent));
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly requestId: string | undefined;
  json<T = unknown>(): T;
}

export interface ClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string;
  readonly credentials: ParticipantCredentials;
  /** The gateway's id; read from /.well-known/credit-gateway when not given. */
  readonly audience?: string;
  /** Trust anchor for https: the platform root certificate. */
  readonly caCertificatePem?: string;
  /** Present the participant's certificate in the TLS handshake (gateways that require mutual TLS). */
  readonly tlsClientCertificate?: boolean;
  readonly algorithm?: RequestAlgorithm;
}

export interface SendOptions {
  readonly body?: Uint8Array | string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Send without a signature (public documents). */
  readonly unsigned?: boolean;
}

/** A verified gateway signature: its header and claims. */
export interface VerifiedDocument {
  readonly kid: string;
  readonly typ: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface IngestOptions {
  readonly format: 'csv' | 'ndjson' | 'json';
  readonly asOf?: string;
  readonly batchId?: string;
  readonly idempotencyKey?: string;
  /** The objection this batch corrects (docs/objections.md). */
  readonly objectionId?: string;
}

export interface IngestResult {
  readonly status: number;
  /** The objection the batch corrected, as it now stands (with ?objection=). */
  readonly objection?: Record<string, unknown>;
  /** The signed receipt (compact JWS) to keep. */
  readonly receipt: string;
  /** Its claims, verified against the gateway's JWKS. */
  readonly verified: VerifiedDocument;
  readonly replayed: boolean;
}

const CONTENT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson', json: 'application/json' } as const;

export class GatewayClient {
  readonly #options: ClientOptions;
  readonly #signer: RequestSigner;
  readonly #base: URL;
  #audience: string | undefined;
  #keySet: JSONWebKeySet | undefined;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#signer = createRequestSigner(options.credentials);
    this.#base = new URL(options.baseUrl);
    this.#audience = options.audience;
  }

  async audience(): Promise<string> {
    this.#audience ??= String((await this.send('GET', '/.well-known/credit-gateway', { unsigned: true })).json<{ gateway_id: string }>().gateway_id);
    return this.#audience;
  }

  /** Sends a request (signed unless `unsigned`); throws GatewayClientError for an error status. */
  async send(method: string, path: string, options: SendOptions = {}): Promise<GatewayResponse> {
    const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : Buffer.from(options.body ?? new Uint8Array(0));
    const headers: Record<string, string> = { ...options.headers };
    if (!options.unsigned) {
      const token = await this.#signer.sign({
        method, path, body, audience: await this.audience(), algorithm: this.#options.algorithm ?? 'RS256',
      });
      headers['authorization'] = `${AUTHORIZATION_SCHEME} ${token}`;
    }
    const response = await this.#transport(method, path, headers, body);
    if (response.status >= 400) {
      let problem: Record<string, unknown>;
      try {
        problem = response.json<Record<string, unknown>>();
      } catch {
        problem = { detail: response.body.toString('utf8').slice(0, 200) };
      }
      throw new GatewayClientError(response.status, problem, response.requestId);
    }
    return response;
  }

  async jwks(refresh = false): Promise<JSONWebKeySet> {
    if (refresh || !this.#keySet) this.#keySet = (await this.send('GET', '/.well-known/jwks.json', { unsigned: true })).json<JSONWebKeySet>();
    return this.#keySet;
  }

  /** Verifies a JWS the gateway signed (fetching the JWKS again once if the key is new) and checks its `typ`. */
  async verify(token: string, expectedType: string): Promise<VerifiedDocument> {
    let verified;
    try {
      verified = await verifyWithKeySet(token, await this.jwks());
    } catch {
      verified = await verifyWithKeySet(token, await this.jwks(true));
    }
    if (verified.header.alg !== GATEWAY_ALGORITHM || verified.header.typ !== expectedType) {
      throw new Error(`expected a ${expectedType} signed ${GATEWAY_ALGORITHM}, got ${String(verified.header.typ)}`);
    }
    const claims = JSON.parse(Buffer.from(verified.payload).toString('utf8')) as Record<string, unknown>;
    if (claims['aud'] !== this.#options.credentials.participantId) throw new Error('the document is addressed to another participant');
    if (claims['iss'] !== await this.audience()) throw new Error('the document was issued by another gateway');
    return { kid: String(verified.header.kid), typ: expectedType, claims };
  }

  /** Pushes one batch (source participants) and returns the verified, signed receipt. */
  async ingest(dataset: string, body: Uint8Array | string, options: IngestOptions): Promise<IngestResult> {
    const query = new URLSearchParams();
    if (options.asOf) query.set('as_of', options.asOf);
    if (options.batchId) query.set('batch_id', options.batchId);
    if (options.objectionId) query.set('objection', options.objectionId);
    const path = `/v1/ingest/${encodeURIComponent(dataset)}${query.size > 0 ? `?${query.toString()}` : ''}`;
    const headers: Record<string, string> = { 'content-type': CONTENT_TYPES[options.format] };
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const response = await this.send('POST', path, { body, headers });
    const { receipt, objection } = response.json<{ receipt: string; objection?: Record<string, unknown> }>();
    return {
      status: response.status,
      ...(objection ? { objection } : {}),
      receipt,
      verified: await this.verify(receipt, SIGNED_TYPES.ingestReceipt),
      replayed: response.headers['idempotent-replayed'] === 'true',
    };
  }

  /** Enterprises: signs a consent with this participant's key and submits it; returns the verified receipt too. */
  async grantConsent(consent: ConsentToSign): Promise<{ consent: Record<string, unknown>; receipt: string; verified: VerifiedDocument }> {
    const token = await signConsent(this.#options.credentials, consent);
    const response = await this.send('POST', '/v1/consents', { body: JSON.stringify({ consent: token }), headers: { 'content-type': 'application/json' } });
    const answer = response.json<{ consent: Record<string, unknown>; receipt: string }>();
    return { ...answer, verified: await this.verify(answer.receipt, SIGNED_TYPES.consentReceipt) };
  }

  async revokeConsent(consentId: string): Promise<{ consent: Record<string, unknown>; receipt: string; verified: VerifiedDocument }> {
    const response = await this.send('POST', `/v1/consents/${encodeURIComponent(consentId)}/revocation`);
    const answer = response.json<{ consent: Record<string, unknown>; receipt: string }>();
    return { ...answer, verified: await this.verify(answer.receipt, SIGNED_TYPES.consentReceipt) };
  }

  /** Banks: asks questions under consents; returns the signed answer and its verified claims. */
  async askQuestions(request: {
    loanReference: string; officer: string; items: readonly { uscc: string; consentId: string; questions: readonly string[] }[];
  }): Promise<{ answer: string; verified: VerifiedDocument; auditIndex: number | undefined }> {
    const body = JSON.stringify({
      loan_reference: request.loanReference,
      officer: request.officer,
      items: request.items.map((item) => ({ subject: { uscc: item.uscc }, consent_id: item.consentId, questions: item.questions })),
    });
    const response = await this.send('POST', '/v1/verifications', { body, headers: { 'content-type': 'application/json' } });
    const { answer } = response.json<{ answer: string }>();
    const auditIndex = response.headers['audit-index'];
    return { answer, verified: await this.verify(answer, SIGNED_TYPES.verification), auditIndex: typeof auditIndex === 'string' ? Number(auditIndex) : undefined };
  }

  /** Enterprises: an objection to records about this enterprise (docs/objections.md). */
  async raiseObjection(request: {
    target: { dataset: string } | { audit_index: number; question: string }; reason: string;
    evidence?: readonly { name: string; media_type: string; content: string }[];
  }): Promise<Record<string, unknown>> {
    const response = await this.send('POST', '/v1/objections', { body: JSON.stringify(request), headers: { 'content-type': 'application/json' } });
    return response.json<Record<string, unknown>>();
  }

  /** Sources: the records stand; the note tells the enterprise why. */
  async confirmObjection(objectionId: string, note: string): Promise<Record<string, unknown>> {
    const response = await this.send('POST', `/v1/objections/${encodeURIComponent(objectionId)}/resolution`, {
      body: JSON.stringify({ outcome: 'confirmed', note }), headers: { 'content-type': 'application/json' },
    });
    return response.json<Record<string, unknown>>();
  }

  /** Banks: the credit report of a template about a subject under a consent; the signed report verified. */
  async report(request: { template: string; uscc: string; consentId: string; loanReference: string; officer: string }): Promise<{
    bundle: ReportBundle; verified: VerifiedDocument;
  }> {
    const body = JSON.stringify({
      template: request.template, subject: { uscc: request.uscc }, consent_id: request.consentId, loan_reference: request.loanReference,
      officer: request.officer,
    });
    const response = await this.send('POST', '/v1/reports', { body, headers: { 'content-type': 'application/json' } });
    const bundle = response.json<ReportBundle>();
    return { bundle, verified: await this.verify(bundle.report, SIGNED_TYPES.report) };
  }

  /** Banks: the PDF of a report this bank was given. */
  async reportPdf(reportId: string): Promise<Buffer> {
    return (await this.send('GET', `/v1/reports/${encodeURIComponent(reportId)}/pdf`)).body;
  }

  #transport(method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<GatewayResponse> {
    const isHttps = this.#base.protocol === 'https:';
    const tls = isHttps ? {
      ca: this.#options.caCertificatePem,
      ...(this.#options.tlsClientCertificate ? { cert: this.#options.credentials.certificatePem, key: this.#options.credentials.privateKeyPem } : {}),
    } : {};
    const requestHeaders = { ...headers, 'content-length': String(body.length) };
    return new Promise((resolve, reject) => {
      // The path goes on the request line exactly as signed: no URL parsing that could re-encode it.
      const target = { hostname: this.#base.hostname.replace(/^\[|\]$/g, ''), port: this.#base.port, path, method };
      const request = (isHttps ? https : http).request({ ...target, headers: requestHeaders, ...tls }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const received = Buffer.concat(chunks);
          const requestId = response.headers['x-request-id'];
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: received,
            requestId: typeof requestId === 'string' ? requestId : undefined,
            json: <T>() => JSON.parse(received.toString('utf8')) as T,
          });
        });
      });
      request.on('error', (error: Error) => reject(new GatewayUnreachableError(this.#base.origin, error)));
      request.end(body);
    });
  }
}
