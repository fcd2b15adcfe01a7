/**
 * Scorecards (docs/modelling.md): a bank submits one (POST /v1/scorecards, reviewed at once, inert until approved),
 * reads it back, has it evaluated on consenting subjects (POST /v1/scores, one JWS for the batch) and back-tests it
 * in aggregate (POST /v1/scorecards/{id}/versions/{version}/backtests). Bodies are validated against
 * schemas/api/scorecard.v1.json, schemas/api/score-request.v1.json and schemas/api/backtest-request.v1.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import type { Metrics } from '../../observability/index.js';
import { schemasDir } from '../../paths.js';
import type { BacktestRequest, BacktestService, ScoreRequest, ScoreService, ScorecardDocument, ScorecardService } from '../../scoring/index.js';
import { BODY_LIMITS, jsonBodyOf, principalOf, signedRequest } from '../signedRequest.js';

export interface ScoreRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly scorecards: ScorecardService;
  readonly scores: ScoreService;
  readonly backtests: BacktestService;
  readonly metrics: Metrics;
}

const ajv = new Ajv2020({ strict: true, allErrors: false, allowUnionTypes: true });
const compile = <T>(file: string) => ajv.compile<T>(JSON.parse(fs.readFileSync(path.join(schemasDir, file), 'utf8')) as object);
const validateScorecard = compile<ScorecardDocument>(path.join('api', 'scorecard.v1.json'));
const validateScoreRequest = compile<ScoreRequest>(path.join('api', 'score-request.v1.json'));
const validateBacktest = compile<BacktestRequest>(path.join('api', 'backtest-request.v1.json'));

function validBody<T>(req: Request, res: Response, validate: ValidateFunction<T>, file: string): T {
  const body = jsonBodyOf(req, res);
  if (!validate(body)) {
    const first = validate.errors?.[0];
    throw new GatewayError('invalid_argument', `the request does not match schemas/${file}: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim());
  }
  return body;
}

/** The path's scorecard id and version, or invalid_argument. */
function scorecardOf(req: Request): { id: string; version: number } {
  const id = String(req.params['id']);
  const version = Number(req.params['version']);
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(id) || !Number.isInteger(version) || version < 1 || version > 1_000_000) {
    throw new GatewayError('invalid_argument', 'a scorecard is named by an id (^[a-z][a-z0-9_]{0,63}$) and a version (1 to 1000000)');
  }
  return { id, version };
}

export function scoreRoutes(deps: ScoreRouteDependencies): Router {
  const router = Router();

  router.post('/v1/scorecards', ...signedRequest(deps.authenticator, ['bank'], BODY_LIMITS.scorecard), async function submitScorecard(req: Request, res: Response) {
    const document = validBody(req, res, validateScorecard, 'api/scorecard.v1.json');
    const view = await deps.scorecards.submit(principalOf(res), document);
    res.status(201).set('Audit-Index', String(view.audit_index)).set('Location', `/v1/scorecards/${view.scorecard.id}/versions/${view.scorecard.version}`).json(view);
  });

  router.get('/v1/scorecards/:id/versions/:version', ...signedRequest(deps.authenticator, ['bank', 'enterprise'], BODY_LIMITS.none),
    async function getScorecard(req: Request, res: Response) {
      const { id, version } = scorecardOf(req);
      res.json(await deps.scorecards.get(principalOf(res), id, version));
    });

  router.post('/v1/scores', ...signedRequest(deps.authenticator, ['bank'], BODY_LIMITS.score), async function score(req: Request, res: Response) {
    const body = validBody(req, res, validateScoreRequest, 'api/score-request.v1.json');
    try {
      const result = await deps.scores.score(principalOf(res), body);
      for (const item of result.items) deps.metrics.scoreItems.inc({ outcome: item.status, code: item.status === 'refused' ? item.code : '' });
      res.set('Audit-Index', String(result.answerAuditIndex)).json({ answer: result.answer, items: result.items });
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'rate_limited') res.set('Retry-After', String(error.details?.['retry_after'] ?? 1));
      throw error;
    }
  });

  router.post('/v1/scorecards/:id/versions/:version/backtests', ...signedRequest(deps.authenticator, ['bank'], BODY_LIMITS.backtest),
    async function backtest(req: Request, res: Response) {
      const { id, version } = scorecardOf(req);
      const body = validBody(req, res, validateBacktest, 'api/backtest-request.v1.json');
      try {
        const result = await deps.backtests.backtest(principalOf(res), id, version, body);
        res.set('Audit-Index', String(result.auditIndex)).json({ answer: result.answer, aggregates: result.aggregates });
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'rate_limited') res.set('Retry-After', String(error.details?.['retry_after'] ?? 1));
        throw error;
      }
    });

  return router;
}
