/**
 * The door of every participant endpoint. The signature is checked before a byte of the body is read: the header,
 * the certificate and the signature over the claims (which carry the body's hash) first, so that a stranger's
 * body is never read, let alone buffered. Then the body is read up to the endpoint's own limit, hashed as it
 * streams, and compared with the signed hash; only then is the request's jti remembered. The authenticated
 * participant and the body are kept in res.locals behind principalOf() and bodyOf(), never bolted onto req.
 */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sha256Base64url } from '../crypto/jws.js';
import { GatewayError } from '../errors/index.js';
import { AUTHORIZATION_SCHEME } from '../identity/index.js';
import type { Principal, RequestAuthenticator } from '../identity/index.js';
import type { ParticipantRole } from '../store/index.js';
import { parseJsonObject } from '../json/index.js';

const EMPTY = new Uint8Array(0);

/** Body limits sized to what each endpoint takes (docs/api.md); the ingest endpoint's is GATEWAY_MAX_BODY_BYTES. */
export const BODY_LIMITS = {
  /** GET, DELETE and the revocation POST take no body. */
  none: 0,
  /** {"consent": "<compact JWS>"}: the consent is at most 64 KiB. */
  consent: 72 * 1024,
  /** 100 items, each naming a consent, a subject and up to every question of the catalog. */
  verification: 256 * 1024,
  /** A consent id, a subject and up to 64 monitor rule ids. */
  subscription: 8 * 1024,
  /** A template, a subject and a consent id. */
  report: 8 * 1024,
  /** An objection's reason and evidence, or a source's resolution of one. */
  objection: 256 * 1024,
  /** A scorecard: at most 64 features of 64 bins, in practice far fewer. */
  scorecard: 256 * 1024,
  /** 100 items, each naming a consent, a subject and a scorecard. */
  score: 64 * 1024,
  /** A purpose and up to 50,000 outcome labels. */
  backtest: 4 * 1024 * 1024,
} as const;

export function principalOf(res: Response): Principal {
  return res.locals['principal'] as Principal;
}

export function bodyOf(res: Response): Uint8Array {
  return (res.locals['body'] as Uint8Array | undefined) ?? EMPTY;
}

function tlsClientThumbprint(req: Request): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const certificate = socket.getPeerCertificate();
  return certificate && certificate.raw ? sha256Base64url(certificate.raw) : undefined;
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError('body_too_large', maxBytes === 0 ? 'this endpoint takes no request body' : `the request body exceeds ${maxBytes} bytes, this endpoint's limit`);
}

/** The body, read once and hashed as it streams, refused as soon as it passes the limit. */
function readBody(req: Request, maxBytes: number): Promise<{ body: Buffer; sha256: string }> {
  const encoding = req.get('content-encoding');
  // The signed bytes are the bytes on the wire: a compressed body would have to be inflated before it is hashed.
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return Promise.reject(new GatewayError('unsupported_format', 'send the body without Content-Encoding: its exact bytes are signed'));
  }
  const declared = req.get('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let length = 0;
    const fail = (error: GatewayError) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        fail(tooLarge(maxBytes));
        return;
      }
      hash.update(chunk);
      chunks.push(chunk);
    };
    const onEnd = () => resolve({ body: Buffer.concat(chunks, length), sha256: hash.digest('base64url') });
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('aborted', () => fail(new GatewayError('malformed_input', 'the request body was cut off')));
  });
}

/**
 * The middleware of a signed endpoint for the given roles, reading at most `maxBodyBytes` of body (one of
 * BODY_LIMITS, or the ingest limit).
 */
export function signedRequest(authenticator: RequestAuthenticator, roles: readonly ParticipantRole[], maxBodyBytes: number): RequestHandler[] {
  return [
    async function authenticateRequest(req: Request, res: Response, next: NextFunction) {
      try {
        const pending = await authenticator.authenticateHead({
          authorization: req.headersDistinct['authorization'],
          method: req.method,
          target: req.originalUrl,
          tlsClientThumbprint: tlsClientThumbprint(req),
        }, roles);
        const { body, sha256 } = await readBody(req, maxBodyBytes);
        res.locals['principal'] = await pending.complete(sha256);
        res.locals['body'] = body;
        next();
      } catch (error) {
        // Refused by authentication (401) or by who the participant is (403): say how to sign.
        if (error instanceof GatewayError && (error.status === 401 || error.status === 403)) res.set('WWW-Authenticate', AUTHORIZATION_SCHEME);
        next(error);
      }
    },
  ];
}

/** The body of a signed JSON endpoint: Content-Type application/json, one JSON object without repeated member names. */
export function jsonBodyOf(req: Request, res: Response): Record<string, unknown> {
  const mediaType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new GatewayError('unsupported_format', 'Content-Type must be application/json');
  const parsed = parseJsonObject(Buffer.from(bodyOf(res)).toString('utf8'));
  if (!parsed.ok) throw new GatewayError('malformed_input', `the body ${parsed.reason}`);
  return parsed.value;
}
