/**
 * Per-request context kept in res.locals behind typed accessors (nothing bolted onto req). The request id is
 * taken from an inbound X-Request-Id only when it is well-formed, otherwise generated, and echoed on every response.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const WELL_FORMED_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function requestIdOf(res: Response): string {
  return String(res.locals['requestId']);
}

export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  const inbound = req.get(REQUEST_ID_HEADER);
  const requestId = inbound !== undefined && WELL_FORMED_ID.test(inbound) ? inbound : randomUUID();
  res.locals['requestId'] = requestId;
  res.set(REQUEST_ID_HEADER, requestId);
  next();
}
