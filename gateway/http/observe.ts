/** Access logging and request metrics, labelled by route template (never by raw path: ids stay out of labels). */
import type { NextFunction, Request, Response } from 'express';
import type { Logger, Metrics } from '../observability/index.js';
import { requestIdOf } from './requestContext.js';

export function observeRequests(logger: Logger, metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, seconds);
      logger.info({ request_id: requestIdOf(res), ...labels, duration_ms: Math.round(seconds * 1e6) / 1e3 }, 'request');
    });
    next();
  };
}
