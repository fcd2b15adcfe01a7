/**
 * The door of every participant endpoint: read the body once, as raw bytes (its hash is signed), then authenticate
 * the request signature for the roles the endpoint allows. The authenticated participant is kept in res.locals
 * behind principalOf(), never bolted onto req.
 */
import type { TLSSocket } from 'node:tls';
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sha256Base64url } from '../crypto/jws.js';
import { GatewayError } from '../errors/index.js';
import { AUTHORIZATION_SCHEME } from '../identity/index.js';
import type { Principal, RequestAuthenticator } from '../identity/index.js';
import type { ParticipantRole } from '../store/index.js';

const EMPTY = new Uint8Array(0);

export function principalOf(res: Response): Principal {
  return res.locals['principal'] as Principal;
}

export function bodyOf(req: Request): Uint8Array {
  return Buffer.isBuffer(req.body) ? req.body : EMPTY;
}

function tlsClientThumbprint(req: Request): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const certificate = socket.getPeerCertificate();
  return certificate && certificate.raw ? sha256Base64url(certificate.raw) : undefined;
}

export function signedRequest(authenticator: RequestAuthenticator, roles: readonly ParticipantRole[], maxBodyBytes: number): RequestHandler[] {
  // inflate: false, so that the signed bytes are the bytes on the wire; a compressed body is refused (415).
  const readBody = express.raw({ type: () => true, limit: maxBodyBytes, inflate: false });
  return [
    readBody,
    async function authenticateRequest(req: Request, res: Response, next: NextFunction) {
      try {
        res.locals['principal'] = await authenticator.authenticate({
          authorization: req.get('authorization'),
          method: req.method,
          target: req.originalUrl,
          body: bodyOf(req),
          tlsClientThumbprint: tlsClientThumbprint(req),
        }, roles);
        next();
      } catch (error) {
        res.set('WWW-Authenticate', AUTHORIZATION_SCHEME);
        next(error);
      }
    },
  ];
}

/** The raw body parsed as a JSON object (signed endpoints read bytes first, since their hash is signed). */
export function jsonBodyOf(req: Request): Record<string, unknown> {
  const mediaType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new GatewayError('unsupported_format', 'Content-Type must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bodyOf(req)).toString('utf8'));
  } catch {
    throw new GatewayError('malformed_input', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new GatewayError('malformed_input', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}
