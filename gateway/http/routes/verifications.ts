/**
 * POST /v1/verifications (banks): fixed questions about consenting subjects, answered with one JWS signed by the
 * gateway. The body is validated against schemas/api/verification-request.v1.json; each item is answered or refused
 * on its own (docs/privacy.md), so screening a list of applicants costs one round trip.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import { schemasDir } from '../../paths.js';
import type { VerificationRequest, VerificationService } from '../../verification/index.js';
import type { Metrics } from '../../observability/index.js';
import { BODY_LIMITS, jsonBodyOf, principalOf, signedRequest } from '../signedRequest.js';

export interface VerificationDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly verifications: VerificationService;
  readonly metrics: Metrics;
}

export function verificationRoutes(deps: VerificationDependencies): Router {
  const router = Router();
  const validateRequest = new Ajv2020({ strict: true, allErrors: false })
    .compile<VerificationRequest>(JSON.parse(fs.readFileSync(path.join(schemasDir, 'api', 'verification-request.v1.json'), 'utf8')) as object);
  router.post('/v1/verifications', ...signedRequest(deps.authenticator, ['bank'], BODY_LIMITS.verification), async function verify(req: Request, res: Response) {
    const body = jsonBodyOf(req, res);
    if (!validateRequest(body)) {
      const first = validateRequest.errors?.[0];
      throw new GatewayError('invalid_argument', `the request does not match schemas/api/verification-request.v1.json: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim());
    }
    try {
      const result = await deps.verifications.verify(principalOf(res), body);
      for (const item of result.items) {
        deps.metrics.verificationItems.inc({ outcome: item.status, code: item.status === 'refused' ? item.code : '' });
      }
      res.set('Audit-Index', String(result.answerAuditIndex)).json({ answer: result.answer, items: result.items });
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'rate_limited') res.set('Retry-After', String(error.details?.['retry_after'] ?? 1));
      throw error;
    }
  });
  return router;
}
