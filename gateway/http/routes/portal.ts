/**
 * The web portal (docs/portal.md): the assets `npm run build` bundled into dist/portal, served at /portal/ under a
 * strict Content-Security-Policy (nothing from outside, no inline script or style), and the question catalog the
 * grant page explains, public like the policies it is read from. Every call the portal makes is a signed request
 * from the browser to the API; nothing here knows who is using it.
 */
import path from 'node:path';
import express, { Router } from 'express';
import type { Request, Response } from 'express';
import helmet from 'helmet';
import { packageRoot } from '../../paths.js';
import type { MonitorRules, QuestionCatalog } from '../../policies/index.js';

export interface PortalDependencies {
  readonly questions: QuestionCatalog;
  readonly monitorRules: MonitorRules;
}

export const PORTAL_ASSETS = path.join(packageRoot, 'dist', 'portal');

const strictHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      'default-src': ["'none'"],
      'script-src': ["'self'"],
      'style-src': ["'self'"],
      'img-src': ["'self'"],
      'connect-src': ["'self'"],
      'base-uri': ["'none'"],
      'form-action': ["'none'"],
      'frame-ancestors': ["'none'"],
    },
  },
  // Served over plain HTTP on loopback for development: HSTS belongs to the TLS deployment.
  strictTransportSecurity: false,
});

export function portalRoutes(deps: PortalDependencies): Router {
  const router = Router();
  const catalog = {
    questions: deps.questions.questions.map((question) => ({
      id: question.id, title: question.title, description: question.description, answer: question.answer,
      purposes: question.purposes, datasets: question.datasets, max_age_days: question.maxAgeDays,
    })),
    packs: deps.questions.packs.map((pack) => ({ id: pack.id, title: pack.title, description: pack.description, questions: pack.questions, purposes: pack.purposes })),
    // The watch page names the rule behind an alert by its title, not its id.
    monitors: deps.monitorRules.rules.map((rule) => ({ id: rule.id, question: rule.question, severity: rule.severity, title: rule.title })),
  };
  router.use('/portal', strictHeaders);
  router.get('/portal/catalog.json', function portalCatalog(_req: Request, res: Response) {
    res.set('Cache-Control', 'no-cache');
    res.json(catalog);
  });
  router.use('/portal', express.static(PORTAL_ASSETS, { index: 'index.html', redirect: true, fallthrough: true }));
  return router;
}
