/** Liveness, readiness and metrics: unauthenticated, and telling nothing about the records. */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { Metrics } from '../../observability/index.js';
import type { Store } from '../../store/index.js';
import { sendProblem } from '../problems.js';

export interface HealthDependencies {
  readonly metrics: Metrics;
  /** Throws when the gateway cannot serve (store closed or unreachable, audit log halted, disk full). */
  readonly checkReady: () => Promise<void>;
  readonly isShuttingDown: () => boolean;
  /** Its engine's name is reported (not where it is: the probe is unauthenticated). */
  readonly store: Pick<Store, 'engine'>;
}

export function healthRoutes(deps: HealthDependencies): Router {
  const router = Router();
  router.get('/healthz', function liveness(_req: Request, res: Response) {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async function readiness(_req: Request, res: Response) {
    try {
      if (deps.isShuttingDown()) throw new Error('shutting down');
      await deps.checkReady();
      res.json({ status: 'ready', engine: deps.store.engine.name });
    } catch (cause) {
      // A known reason (the audit log halted, the disk full) is answered as itself, so the probe's log says why.
      sendProblem(res, cause instanceof GatewayError ? cause : new GatewayError('storage_unavailable', 'the gateway is not ready to serve', { cause }));
    }
  });
  router.get('/metrics', async function prometheus(_req: Request, res: Response) {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
