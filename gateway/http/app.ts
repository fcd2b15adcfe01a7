/**
 * Builds the express app from its dependencies and never listens: the entry point (server.ts) listens, and tests
 * mount the app on port 0. Routes stay thin; the domain underneath knows nothing of express.
 */
import express from 'express';
import type { Express } from 'express';
import type { Logger, Metrics } from '../observability/index.js';
import { observeRequests } from './observe.js';
import { notFound, problemHandler } from './problems.js';
import { assignRequestId } from './requestContext.js';
import { healthRoutes } from './routes/health.js';

export interface AppDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly checkReady: () => void;
  readonly isShuttingDown: () => boolean;
}

export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(assignRequestId, observeRequests(deps.logger, deps.metrics));
  app.use(healthRoutes(deps));
  app.use(notFound);
  app.use(problemHandler(deps.logger));
  return app;
}
