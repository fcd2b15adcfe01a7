/**
 * Risk monitoring over signed requests (docs/monitoring.md), for banks: subscribe to a borrower under a
 * post-loan consent, list and end subscriptions, and read the signed events as a pull feed. The body of a
 * subscription is validated against schemas/api/subscription-request.v1.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import type { Monitoring, SubscriptionRequest } from '../../monitoring/index.js';
import { schemasDir } from '../../paths.js';
import { BODY_LIMITS, jsonBodyOf, principalOf, signedRequest } from '../signedRequest.js';

export interface MonitoringRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly monitoring: Monitoring;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

function pageSize(req: Request): number {
  const raw = req.query['limit'];
  if (raw === undefined) return DEFAULT_PAGE;
  if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) {
    throw new GatewayError('invalid_argument', `limit must be 1-${MAX_PAGE}`);
  }
  return Number(raw);
}

function cursorParameter(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > 64) throw new GatewayError('invalid_argument', `${name} must appear once`);
  return raw;
}

export function monitoringRoutes(deps: MonitoringRouteDependencies): Router {
  const router = Router();
  const validateRequest = new Ajv2020({ strict: true, allErrors: false })
    .compile<SubscriptionRequest>(JSON.parse(fs.readFileSync(path.join(schemasDir, 'api', 'subscription-request.v1.json'), 'utf8')) as object);
  const subscribing = signedRequest(deps.authenticator, ['bank'], BODY_LIMITS.subscription);
  const banks = signedRequest(deps.authenticator, ['bank'], BODY_LIMITS.none);

  router.post('/v1/subscriptions', ...subscribing, async function subscribe(req: Request, res: Response) {
    const body = jsonBodyOf(req, res);
    if (!validateRequest(body)) {
      const first = validateRequest.errors?.[0];
      throw new GatewayError('invalid_argument', `the request does not match schemas/api/subscription-request.v1.json: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim());
    }
    res.status(201).json(await deps.monitoring.subscriptions.subscribe(principalOf(res), body));
  });

  router.get('/v1/subscriptions', ...banks, async function listSubscriptions(req: Request, res: Response) {
    const page = await deps.monitoring.subscriptions.list(principalOf(res), cursorParameter(req, 'cursor'), pageSize(req));
    res.json({ subscriptions: page.subscriptions, next_cursor: page.nextCursor });
  });

  router.delete('/v1/subscriptions/:subscriptionId', ...banks, async function endSubscription(req: Request, res: Response) {
    res.json(await deps.monitoring.subscriptions.end(principalOf(res), String(req.params['subscriptionId'])));
  });

  router.get('/v1/alerts', ...banks, async function alertFeed(req: Request, res: Response) {
    const page = await deps.monitoring.feed(principalOf(res), cursorParameter(req, 'after'), pageSize(req));
    res.json({ events: page.events, next_cursor: page.nextCursor });
  });

  return router;
}
