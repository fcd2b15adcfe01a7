/**
 * RFC 9457 problem details. A GatewayError becomes a problem with its stable code; anything else is a bug, logged
 * with its stack and shown to the client as a bare internal_error so that nothing internal leaks.
 */
import type { NextFunction, Request, Response } from 'express';
import { GatewayError } from '../errors/index.js';
import { isStorageFull } from '../store/index.js';
import type { ErrorCode } from '../errors/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { requestIdOf } from './requestContext.js';

export const PROBLEM_TYPE_PREFIX = 'urn:credit-gateway:problem:';

export function problemType(code: ErrorCode): string {
  return `${PROBLEM_TYPE_PREFIX}${code}`;
}

export function sendProblem(res: Response, error: GatewayError): void {
  res.status(error.status).type('application/problem+json').json({
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: requestIdOf(res),
    ...error.details,
  });
}

export function notFound(req: Request, res: Response): void {
  sendProblem(res, new GatewayError('not_found', `no resource at ${req.method} ${req.path}`));
}

/** The one error middleware: 4xx logged as warnings, 5xx as errors, each counted by route template and code. */
export function problemHandler(logger: Logger, metrics: Metrics) {
  return (error: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const known = error instanceof GatewayError ? error : storageFull(error) ?? routerError(error);
    const problem = known ?? new GatewayError('internal_error', 'the request could not be completed');
    const entry = { request_id: requestIdOf(res), code: problem.code, method: req.method, path: req.path };
    // A request refused before its body was read (a bad signature, a body over the limit): close the connection
    // rather than read the rest of a body nobody will use.
    if (!req.complete) res.set('Connection', 'close');
    if (problem.status >= 500) logger.error({ ...entry, err: error }, 'request failed');
    else logger.warn(entry, problem.message);
    metrics.problems.inc({ route: req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched', code: problem.code });
    sendProblem(res, problem);
  };
}

/** A write that met a full disk: its transaction was rolled back, so what it was to change was not changed. */
function storageFull(error: unknown): GatewayError | undefined {
  if (!isStorageFull(error)) return undefined;
  return new GatewayError('storage_full', 'the disk holding the gateway\'s data is full: this request\'s change was not stored; retry once space is freed', { cause: error });
}

/** The router throws a URIError for a path that is not percent-encoding: the client's fault. */
function routerError(error: unknown): GatewayError | undefined {
  if (error instanceof URIError) return new GatewayError('invalid_argument', 'the path is not valid percent-encoding');
  return undefined;
}
