/** GET /openapi.json: the OpenAPI 3.1 description of this API, public and cacheable, built once when mounted. */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { openApiDocument } from '../openapi.js';

/** The document changes only with the gateway's version, so caches may keep it a while. */
const MAX_AGE_SECONDS = 3600;

export function openApiRoutes(): Router {
  const router = Router();
  const document = JSON.stringify(openApiDocument());
  router.get('/openapi.json', function openApi(_req: Request, res: Response) {
    res.set('Cache-Control', `public, max-age=${MAX_AGE_SECONDS}`);
    res.type('application/json').send(document);
  });
  return router;
}
