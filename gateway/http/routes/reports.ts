/**
 * Credit reports (docs/reports.md). Banks: POST /v1/reports (validated against schemas/api/report-request.v1.json)
 * makes one and returns what the bank keeps — the signed report, its audit entry, inclusion proof and checkpoint;
 * GET /v1/reports/{id} gives it again and GET /v1/reports/{id}/pdf renders it in Chinese. Anyone: the report
 * templates, and GET /v1/reports/{id}/check (the report's link and QR code), which shows hashes and the proof but
 * never the answers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Router } from 'express';
import type { Request, Response } from 'express';
import { GatewayError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import { schemasDir } from '../../paths.js';
import type { ReportTemplates } from '../../policies/index.js';
import type { ReportRenderer, ReportRequest, ReportService } from '../../reports/index.js';
import { BODY_LIMITS, jsonBodyOf, principalOf, signedRequest } from '../signedRequest.js';

export interface ReportRouteDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly reports: ReportService;
  readonly reportRenderer: ReportRenderer;
  readonly templates: ReportTemplates;
  /** GATEWAY_PUBLIC_URL; without it, links name the address the request came to. */
  readonly publicUrl: string | undefined;
}

const validateRequest = new Ajv2020({ strict: true, allErrors: false })
  .compile<ReportRequest>(JSON.parse(fs.readFileSync(path.join(schemasDir, 'api', 'report-request.v1.json'), 'utf8')) as object);

export function reportRoutes(deps: ReportRouteDependencies): Router {
  const router = Router();
  const requesting = signedRequest(deps.authenticator, ['bank'], BODY_LIMITS.report);
  const banks = signedRequest(deps.authenticator, ['bank'], BODY_LIMITS.none);
  const baseUrl = (req: Request) => deps.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;

  router.get('/v1/report-templates', function listTemplates(_req: Request, res: Response) {
    res.json({
      templates: deps.templates.templates.map((template) => ({
        id: template.id, version: template.version, stage: template.stage, definition_hash: template.definitionHash, title: template.title,
        description: template.description,
        sections: template.sections.map((section) => ({ heading: section.heading, questions: section.questions.map((question) => question.id) })),
      })),
    });
  });

  router.post('/v1/reports', ...requesting, async function createReport(req: Request, res: Response) {
    const body = jsonBodyOf(req, res);
    if (!validateRequest(body)) {
      const first = validateRequest.errors?.[0];
      throw new GatewayError('invalid_argument', `the request does not match schemas/api/report-request.v1.json: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim());
    }
    try {
      const bundle = await deps.reports.create(principalOf(res), body);
      res.status(201).set('Audit-Index', String(bundle.audit.index)).set('Location', `/v1/reports/${bundle.report_id}`).json(bundle);
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'rate_limited') res.set('Retry-After', String(error.details?.['retry_after'] ?? 1));
      throw error;
    }
  });

  router.get('/v1/reports/:reportId', ...banks, async function getReport(req: Request, res: Response) {
    res.json((await deps.reports.get(principalOf(res), String(req.params['reportId']))).bundle);
  });

  router.get('/v1/reports/:reportId/pdf', ...banks, async function reportPdf(req: Request, res: Response) {
    const report = await deps.reports.get(principalOf(res), String(req.params['reportId']));
    const pdf = await deps.reportRenderer.render(report, `${baseUrl(req)}${report.bundle.links.check}`);
    res.type('application/pdf').set('Content-Disposition', `inline; filename="report-${report.bundle.report_id}.pdf"`).send(pdf);
  });

  router.get('/v1/reports/:reportId/check', async function checkReport(req: Request, res: Response) {
    res.json(await deps.reports.check(String(req.params['reportId'])));
  });

  return router;
}
