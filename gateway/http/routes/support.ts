/**
 * Policy push (docs/support.md). Anyone: the support policies. Enterprises: their own eligibility, signed for
 * themselves or, with ?bank=, for a bank they pass it to. A policy's department: its counts, small cells suppressed.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import type { SupportService } from '../../support/index.js';
import { BODY_LIMITS, principalOf, signedRequest } from '../signedRequest.js';

export interface SupportRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly support: SupportService;
}

const PARTICIPANT_ID = /^[a-z][a-z0-9-]{2,63}$/;
const POLICY_ID = /^[a-z][a-z0-9_]{0,63}$/;

export function supportRoutes(deps: SupportRouteDependencies): Router {
  const router = Router();

  router.get('/v1/support-policies', function listSupportPolicies(_req: Request, res: Response) {
    res.json({
      policies: deps.support.policies.policies.map((policy) => ({
        id: policy.id, version: policy.version, definition_hash: policy.definitionHash, title: policy.title, department: policy.department,
        description: policy.description, conditions: policy.conditions.map((condition) => ({ question: condition.question, answers: [...condition.answers] })),
      })),
    });
  });

  router.get('/v1/support-policies/eligibility', ...signedRequest(deps.authenticator, ['enterprise'], BODY_LIMITS.none),
    async function readEligibility(req: Request, res: Response) {
      const bank = req.query['bank'];
      if (bank !== undefined && (typeof bank !== 'string' || !PARTICIPANT_ID.test(bank))) throw new GatewayError('invalid_argument', 'bank must be a participant id');
      const given = await deps.support.eligibility(principalOf(res), bank);
      res.set('Audit-Index', String(given.auditIndex)).json({ eligibility: given.token, policies: given.results, audit_index: given.auditIndex });
    });

  router.get('/v1/support-policies/:policyId/counts', ...signedRequest(deps.authenticator, ['source', 'auditor'], BODY_LIMITS.none),
    async function readSupportCounts(req: Request, res: Response) {
      const policyId = String(req.params['policyId']);
      if (!POLICY_ID.test(policyId)) throw new GatewayError('invalid_argument', 'a support policy id is ^[a-z][a-z0-9_]{0,63}$');
      const read = await deps.support.counts(principalOf(res), policyId);
      res.set('Audit-Index', String(read.auditIndex)).json({ counts: read.token, policy: policyId, ...read.counts, min_cell: read.minCell, audit_index: read.auditIndex });
    });

  return router;
}
