/**
 * Builds the express app from its dependencies and never listens: the entry point (server.ts) listens, and tests
 * mount the app on port 0. Routes stay thin; the domain underneath knows nothing of express.
 */
import express from 'express';
import type { Express } from 'express';
import type { ConsentService } from '../consent/index.js';
import type { EnrolmentCodes, RequestAuthenticator, ParticipantRegistry } from '../identity/index.js';
import type { Ingestor } from '../ingest/index.js';
import type { SigningKeySet } from '../keys/index.js';
import type { Logger, Metrics, OperatorStatus } from '../observability/index.js';
import type { GatewaySigner } from '../signing/signer.js';
import type { AuditRuntime } from '../runtime/index.js';
import type { IdentityStore, Store } from '../store/index.js';
import type { VerificationService } from '../verification/index.js';
import type { Monitoring } from '../monitoring/index.js';
import type { MonitorRules, QuestionCatalog, ReportTemplates } from '../policies/index.js';
import type { ObjectionService } from '../objections/index.js';
import type { ReportRenderer, ReportService } from '../reports/index.js';
import type { BacktestService, ScoreService, ScorecardService } from '../scoring/index.js';
import type { SupportService } from '../support/index.js';
import type { MisuseScanner } from '../misuse/index.js';
import { idempotentResponder } from './idempotency.js';
import { observeRequests } from './observe.js';
import { notFound, problemHandler } from './problems.js';
import { assignRequestId } from './requestContext.js';
import { healthRoutes } from './routes/health.js';
import { identityRoutes } from './routes/identity.js';
import { openApiRoutes } from './routes/openapi.js';
import { auditRoutes } from './routes/audit.js';
import { consentRoutes } from './routes/consents.js';
import { verificationRoutes } from './routes/verifications.js';
import { ingestRoutes } from './routes/ingest.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { objectionRoutes } from './routes/objections.js';
import { reportRoutes } from './routes/reports.js';
import { scoreRoutes } from './routes/scores.js';
import { supportRoutes } from './routes/support.js';
import { enrolmentRoutes } from './routes/enrolment.js';
import { portalRoutes } from './routes/portal.js';
import { operationsRoutes } from './routes/operations.js';
import { registryRoutes } from './routes/registry.js';

export interface AppDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly checkReady: () => Promise<void>;
  readonly isShuttingDown: () => boolean;
  readonly gatewayId: string;
  readonly clockSkewSeconds: number;
  readonly maxBodyBytes: number;
  readonly caCertificatePem: string;
  readonly store: IdentityStore & Pick<Store, 'engine'>;
  readonly participants: ParticipantRegistry;
  readonly enrolment: EnrolmentCodes;
  readonly questions: QuestionCatalog;
  readonly monitorRules: MonitorRules;
  readonly signingKeys: SigningKeySet;
  readonly signer: GatewaySigner;
  readonly authenticator: RequestAuthenticator;
  readonly ingestor: Ingestor;
  readonly audit: AuditRuntime;
  readonly consents: ConsentService;
  readonly verifications: VerificationService;
  readonly scorecards: ScorecardService;
  readonly scores: ScoreService;
  readonly backtests: BacktestService;
  readonly monitoring: Monitoring;
  readonly templates: ReportTemplates;
  readonly reports: ReportService;
  readonly reportRenderer: ReportRenderer;
  readonly publicUrl: string | undefined;
  readonly objections: ObjectionService;
  readonly support: SupportService;
  readonly operatorStatus: OperatorStatus;
  readonly misuse: MisuseScanner;
}

export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(assignRequestId, observeRequests(deps.logger, deps.metrics));
  app.use(healthRoutes(deps));
  app.use(openApiRoutes());
  app.use(identityRoutes(deps));
  app.use(ingestRoutes({ ...deps, idempotency: idempotentResponder(deps.store) }));
  app.use(auditRoutes(deps));
  app.use(consentRoutes(deps));
  app.use(verificationRoutes(deps));
  app.use(scoreRoutes(deps));
  app.use(supportRoutes(deps));
  app.use(monitoringRoutes(deps));
  app.use(reportRoutes(deps));
  app.use(objectionRoutes(deps));
  app.use(enrolmentRoutes(deps));
  app.use(registryRoutes(deps));
  app.use(operationsRoutes(deps));
  app.use(portalRoutes(deps));
  app.use(notFound);
  app.use(problemHandler(deps.logger, deps.metrics));
  return app;
}
