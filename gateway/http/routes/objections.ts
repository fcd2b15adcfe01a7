/**
 * Objections over signed requests (docs/objections.md). Enterprises raise them (schemas/api/objection-request.v1.json)
 * and follow their history; sources read their queue and confirm (schemas/api/objection-resolution.v1.json) — or
 * correct, by ingesting a batch with ?objection=<id> (routes/ingest.ts). Anyone else, and anyone asking about an
 * objection that is not theirs to see, gets the same 404 as for one that does not exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import type { ObjectionRequest, ObjectionService, ResolutionRequest } from '../../objections/index.js';
import { schemasDir } from '../../paths.js';
import type { ObjectionState } from '../../store/index.js';
import { BODY_LIMITS, jsonBodyOf, principalOf, signedRequest } from '../signedRequest.js';

export interface ObjectionRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly objections: ObjectionService;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
const STATES: readonly ObjectionState[] = ['open', 'confirmed', 'corrected'];

function compile<T>(file: string): ValidateFunction<T> {
  return new Ajv2020({ strict: true, allErrors: false }).compile<T>(JSON.parse(fs.readFileSync(path.join(schemasDir, 'api', file), 'utf8')) as object);
}

const validateObjection = compile<ObjectionRequest>('objection-request.v1.json');
const validateResolution = compile<ResolutionRequest>('objection-resolution.v1.json');

function validated<T>(validate: ValidateFunction<T>, file: string, body: unknown): T {
  if (validate(body)) return body;
  const first = validate.errors?.[0];
  throw new GatewayError('invalid_argument', `the request does not match schemas/api/${file}: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim());
}

function single(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > 64) throw new GatewayError('invalid_argument', `${name} must appear once`);
  return raw;
}

function pageSize(req: Request): number {
  const raw = single(req, 'limit');
  if (raw === undefined) return DEFAULT_PAGE;
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) throw new GatewayError('invalid_argument', `limit must be 1-${MAX_PAGE}`);
  return Number(raw);
}

function stateFilter(req: Request): ObjectionState | undefined {
  const raw = single(req, 'state');
  if (raw !== undefined && !(STATES as readonly string[]).includes(raw)) throw new GatewayError('invalid_argument', `state must be one of ${STATES.join(', ')}`);
  return raw as ObjectionState | undefined;
}

export function objectionRoutes(deps: ObjectionRouteDependencies): Router {
  const router = Router();
  const enterprises = signedRequest(deps.authenticator, ['enterprise'], BODY_LIMITS.objection);
  const sources = signedRequest(deps.authenticator, ['source'], BODY_LIMITS.objection);
  const readers = signedRequest(deps.authenticator, ['enterprise', 'source'], BODY_LIMITS.none);

  router.post('/v1/objections', ...enterprises, async function raiseObjection(req: Request, res: Response) {
    const body = validated(validateObjection, 'objection-request.v1.json', jsonBodyOf(req, res));
    const objection = await deps.objections.raise(principalOf(res), body);
    res.status(201).set('Audit-Index', String(objection.audit_index)).set('Location', `/v1/objections/${objection.objection_id}`).json(objection);
  });

  router.get('/v1/objections', ...readers, async function listObjections(req: Request, res: Response) {
    const page = await deps.objections.list(principalOf(res), stateFilter(req), single(req, 'cursor'), pageSize(req));
    res.json({ objections: page.objections, next_cursor: page.nextCursor });
  });

  router.get('/v1/objections/:objectionId', ...readers, async function getObjection(req: Request, res: Response) {
    res.json(await deps.objections.get(principalOf(res), String(req.params['objectionId'])));
  });

  router.post('/v1/objections/:objectionId/resolution', ...sources, async function confirmObjection(req: Request, res: Response) {
    const body = validated(validateResolution, 'objection-resolution.v1.json', jsonBodyOf(req, res));
    const objection = await deps.objections.confirm(principalOf(res), String(req.params['objectionId']), body);
    res.json(objection);
  });

  return router;
}
