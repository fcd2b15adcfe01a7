/**
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): a participant retrying a request with the same key
 * and the same method, path and body gets the first answer again, byte for byte; the same key with a different
 * request is refused (422), and so is a retry while the first attempt is still running (409). Only successful
 * answers are kept: a failed request changed nothing, so retrying it simply runs it again.
 */
import type { NextFunction, Request, Response } from 'express';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { IdentityStore } from '../store/index.js';
import { bodyOf, principalOf } from './signedRequest.js';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
const KEY = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentResponder {
  /** Middleware: answers a repeat from the store, or lets the request through and remembers it as in flight. */
  check(req: Request, res: Response, next: NextFunction): Promise<void>;
  /** Sends a successful answer and keeps it for the key, if the request had one. */
  send(res: Response, status: number, body: unknown): Promise<void>;
}

interface InFlight {
  readonly participantId: string;
  readonly key: string;
  readonly requestSha256: string;
}

export function idempotentResponder(store: IdentityStore, now: () => Date = () => new Date()): IdempotentResponder {
  const inFlight = new Set<string>();
  const slot = (participantId: string, key: string) => `${participantId}\u0000${key}`;

  return {
    async check(req, res, next) {
      const key = req.get(IDEMPOTENCY_KEY_HEADER);
      if (key === undefined) {
        next();
        return;
      }
      if (!KEY.test(key)) throw new GatewayError('invalid_argument', `${IDEMPOTENCY_KEY_HEADER} must be 1-255 visible ASCII characters`);
      const { participantId } = principalOf(res);
      const requestSha256 = sha256Hex(Buffer.concat([Buffer.from(`${req.method} ${req.originalUrl}\n`), bodyOf(res)]));
      const stored = await store.findIdempotentResponse(participantId, key);
      if (stored) {
        if (stored.requestSha256 !== requestSha256) {
          throw new GatewayError('idempotency_key_reused', `this ${IDEMPOTENCY_KEY_HEADER} was used for a different request`);
        }
        res.status(stored.status).set('Idempotent-Replayed', 'true').type('application/json').send(stored.body);
        return;
      }
      if (inFlight.has(slot(participantId, key))) {
        throw new GatewayError('idempotency_key_in_use', `a request with this ${IDEMPOTENCY_KEY_HEADER} is still running; retry later`);
      }
      inFlight.add(slot(participantId, key));
      res.on('close', () => inFlight.delete(slot(participantId, key)));
      res.locals['idempotency'] = { participantId, key, requestSha256 } satisfies InFlight;
      next();
    },
    async send(res, status, body) {
      const text = JSON.stringify(body);
      const pending = res.locals['idempotency'] as InFlight | undefined;
      if (pending) {
        await store.saveIdempotentResponse(pending.participantId, pending.key, { requestSha256: pending.requestSha256, status, body: text }, now().toISOString());
      }
      res.status(status).type('application/json').send(text);
    },
  };
}
