/** Prometheus metrics (prom-client), on a registry of our own rather than the library's global one. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly rowsIngested: Counter<'dataset'>;
  readonly batchesIngested: Counter<'dataset' | 'outcome'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'HTTP request latency by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    rowsIngested: new Counter({
      name: 'gateway_rows_ingested_total',
      help: 'Rows stored by committed ingestion batches',
      labelNames: ['dataset'],
      registers: [registry],
    }),
    batchesIngested: new Counter({
      name: 'gateway_batches_ingested_total',
      help: 'Ingestion batches by outcome (stored, duplicate)',
      labelNames: ['dataset', 'outcome'],
      registers: [registry],
    }),
  };
}

/** What an ingestion batch adds to the metrics: its rows only when stored, the batch under its outcome. */
export function countIngestedBatch(metrics: Metrics, batch: { dataset: string; outcome: string; rowCount: number }): void {
  if (batch.outcome === 'stored') metrics.rowsIngested.inc({ dataset: batch.dataset }, batch.rowCount);
  metrics.batchesIngested.inc({ dataset: batch.dataset, outcome: batch.outcome });
}
