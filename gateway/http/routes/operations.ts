/**
 * The operator's view of the running gateway (docs/api.md, "The operator"): its status (readiness, the audit log,
 * key ids and dates, the CA certificate's expiry), the batches received with their audit receipts, and the misuse flags. Operators
 * only, over signed requests; what they answer names no subject and holds no key material or record value.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import type { MisuseScanner } from '../../misuse/index.js';
import type { OperatorStatus } from '../../observability/index.js';
import { BODY_LIMITS, signedRequest } from '../signedRequest.js';

export interface OperationsRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly operatorStatus: OperatorStatus;
  readonly misuse: Pick<MisuseScanner, 'flags'>;
}

const DEFAULT_BATCHES = 50;
const MAX_BATCHES = 1000;

function batchLimit(req: Request): number {
  const raw = req.query['limit'];
  if (raw === undefined) return DEFAULT_BATCHES;
  if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_BATCHES) {
    throw new GatewayError('invalid_argument', `limit must be 1-${MAX_BATCHES}`);
  }
  return Number(raw);
}

export function operationsRoutes(deps: OperationsRouteDependencies): Router {
  const router = Router();
  const operators = signedRequest(deps.authenticator, ['operator'], BODY_LIMITS.none);

  router.get('/v1/status', ...operators, async function gatewayStatus(_req: Request, res: Response) {
    res.set('Cache-Control', 'no-store');
    res.json(await deps.operatorStatus.status());
  });

  // The flags the misuse rules raised (docs/misuse.md), as `gateway misuse flags` lists them: banks and counts only.
  router.get('/v1/misuse-flags', ...operators, async function listMisuseFlags(req: Request, res: Response) {
    const since = req.query['since'];
    if (since !== undefined && (typeof since !== 'string' || Number.isNaN(Date.parse(since)))) {
      throw new GatewayError('invalid_argument', 'since must be a time such as 2026-12-01T00:00:00Z');
    }
    res.set('Cache-Control', 'no-store');
    const flags = await deps.misuse.flags(since === undefined ? undefined : new Date(since).toISOString());
    res.json({
      flags: flags.map((flag) => ({
        audit_index: flag.auditIndex, rule: flag.rule, bank: flag.bank, severity: flag.severity, evidence: flag.evidence,
        window_from: flag.windowFrom, window_to: flag.windowTo, suspended: flag.suspended,
      })),
    });
  });

  router.get('/v1/batches', ...operators, async function listBatches(req: Request, res: Response) {
    res.set('Cache-Control', 'no-store');
    res.json({ batches: await deps.operatorStatus.batches(batchLimit(req)) });
  });

  return router;
}
