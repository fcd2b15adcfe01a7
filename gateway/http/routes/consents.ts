/**
 * Consents over signed requests (docs/consent.md): an enterprise submits, lists, revokes and watches its consents;
 * a bank lists and reads those addressed to it. Anyone else, and anyone asking about a consent that is not theirs,
 * gets the same 404 as for a consent that does not exist.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import type { ConsentService } from '../../consent/index.js';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import { BODY_LIMITS, jsonBodyOf, principalOf, signedRequest } from '../signedRequest.js';

export interface ConsentDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly consents: ConsentService;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

function pageSize(req: Request): number {
  const raw = req.query['limit'];
  if (raw === undefined) return DEFAULT_PAGE;
  if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) {
    throw new GatewayError('invalid_argument', `limit must be 1-${MAX_PAGE}`);
  }
  return Number(raw);
}

function cursor(req: Request): string | undefined {
  const raw = req.query['cursor'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > 64) throw new GatewayError('invalid_argument', 'cursor must appear once and be one this gateway gave');
  return raw;
}

export function consentRoutes(deps: ConsentDependencies): Router {
  const router = Router();
  const granting = signedRequest(deps.authenticator, ['enterprise'], BODY_LIMITS.consent);
  const enterprises = signedRequest(deps.authenticator, ['enterprise'], BODY_LIMITS.none);
  const parties = signedRequest(deps.authenticator, ['enterprise', 'bank'], BODY_LIMITS.none);

  router.post('/v1/consents', ...granting, async function grantConsent(req: Request, res: Response) {
    const { consent } = jsonBodyOf(req, res);
    if (typeof consent !== 'string') throw new GatewayError('consent_malformed', 'the body must be {"consent": "<compact JWS>"}');
    const granted = await deps.consents.grant(principalOf(res), consent);
    res.status(201).json(granted);
  });

  router.get('/v1/consents', ...parties, async function listConsents(req: Request, res: Response) {
    const page = await deps.consents.list(principalOf(res), cursor(req), pageSize(req));
    res.json({ consents: page.consents, next_cursor: page.nextCursor });
  });

  router.get('/v1/consents/:consentId', ...parties, async function readConsent(req: Request, res: Response) {
    const consentId = String(req.params['consentId']);
    const principal = principalOf(res);
    // The artefact too: the bank keeps it as evidence, and anyone can check it with `gateway consent verify`.
    res.json({ ...await deps.consents.get(principal, consentId), artefact: await deps.consents.artefact(principal, consentId) });
  });

  router.post('/v1/consents/:consentId/revocation', ...enterprises, async function revokeConsent(req: Request, res: Response) {
    res.json(await deps.consents.revoke(principalOf(res), String(req.params['consentId'])));
  });

  router.get('/v1/consents/:consentId/accesses', ...enterprises, async function consentAccesses(req: Request, res: Response) {
    const { consent, entries } = await deps.consents.accesses(principalOf(res), String(req.params['consentId']));
    res.json({
      consent_id: consent.consent_id,
      state: consent.state,
      entries: entries.map((entry) => ({ index: entry.index, kind: entry.kind, actor: entry.actor, recorded_at: entry.recordedAt, entry: Buffer.from(entry.entry).toString('utf8') })),
    });
  });

  return router;
}
