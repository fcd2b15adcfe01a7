/**
 * Prometheus metrics (prom-client), on a registry of our own rather than the library's global one: the HTTP traffic,
 * and what an operator watches the gateway by — verifications answered and refused (by code), problems answered,
 * ingestion rows and refusals, the audit log's size and checkpoint age, the alert outbox (pending and dead-lettered
 * events) and the replay cache. Labels are codes, datasets and route templates, never ids or record values.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly rowsIngested: Counter<'dataset'>;
  readonly batchesIngested: Counter<'dataset' | 'outcome'>;
  /** Batches refused at ingestion, by dataset and problem code. */
  readonly batchesRefused: Counter<'dataset' | 'code'>;
  /** Invalid rows of refused batches. */
  readonly invalidRows: Counter<'dataset'>;
  /** Verification items by outcome (answered, refused) and refusal code ("" when answered). */
  readonly verificationItems: Counter<'outcome' | 'code'>;
  readonly scoreItems: Counter<'outcome' | 'code'>;
  /** Every problem answered, by route template and code: whole requests refused (signatures, roles, limits…). */
  readonly problems: Counter<'route' | 'code'>;
}

/** What the state gauges read when /metrics is scraped. */
export interface GatewayState {
  auditLogSize(): Promise<number>;
  /** The latest checkpoint's tree size and when it was made, if there is one. */
  latestCheckpoint(): Promise<{ readonly treeSize: number; readonly createdAt: string } | undefined>;
  outboxEvents(): Promise<Readonly<Record<'pending' | 'delivered' | 'dead', number>>>;
  /** The national uplink's manifests by state (docs/uplink.md). */
  uplinkManifests(): Promise<Readonly<Record<'pending' | 'acknowledged' | 'dead', number>>>;
  replayCacheSize(): Promise<number>;
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
    batchesRefused: new Counter({
      name: 'gateway_ingest_batches_refused_total',
      help: 'Ingestion batches refused (nothing stored), by problem code',
      labelNames: ['dataset', 'code'],
      registers: [registry],
    }),
    invalidRows: new Counter({
      name: 'gateway_ingest_invalid_rows_total',
      help: 'Invalid rows in refused ingestion batches',
      labelNames: ['dataset'],
      registers: [registry],
    }),
    verificationItems: new Counter({
      name: 'gateway_verification_items_total',
      help: 'Verification items by outcome (answered, refused) and refusal code',
      labelNames: ['outcome', 'code'],
      registers: [registry],
    }),
    scoreItems: new Counter({
      name: 'gateway_score_items_total',
      help: 'Score items by outcome (scored, refused) and refusal code',
      labelNames: ['outcome', 'code'],
      registers: [registry],
    }),
    problems: new Counter({
      name: 'gateway_problems_total',
      help: 'Problems (RFC 9457) answered, by route template and code',
      labelNames: ['route', 'code'],
      registers: [registry],
    }),
  };
}

/** Gauges read from the gateway's state at each scrape; call once per registry. */
export function observeGatewayState(metrics: Metrics, state: GatewayState, now: () => number = Date.now): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'gateway_audit_log_entries', help: 'Entries in the audit log', registers,
    async collect() { this.set(await state.auditLogSize()); },
  });
  new Gauge({
    name: 'gateway_audit_checkpoint_tree_size', help: 'Tree size of the latest signed checkpoint (0: none yet)', registers,
    async collect() { this.set((await state.latestCheckpoint())?.treeSize ?? 0); },
  });
  new Gauge({
    name: 'gateway_audit_checkpoint_age_seconds', help: 'Seconds since the latest checkpoint was signed (absent: none yet)', registers,
    async collect() {
      const latest = await state.latestCheckpoint();
      this.reset();
      if (latest) this.set((now() - Date.parse(latest.createdAt)) / 1000);
    },
  });
  new Gauge({
    name: 'gateway_alert_outbox_events', help: 'Monitoring events in the outbox by delivery state (dead: dead-lettered)', labelNames: ['state'], registers,
    async collect() {
      for (const [outboxState, count] of Object.entries(await state.outboxEvents())) this.set({ state: outboxState }, count);
    },
  });
  new Gauge({
    name: 'gateway_uplink_manifests', help: 'National uplink manifests by state (pending: the outbox\'s depth; dead: dead-lettered)', labelNames: ['state'], registers,
    async collect() {
      for (const [manifestState, count] of Object.entries(await state.uplinkManifests())) this.set({ state: manifestState }, count);
    },
  });
  new Gauge({
    name: 'gateway_replay_cache_entries', help: 'Signed request ids remembered against replay', registers,
    async collect() { this.set(await state.replayCacheSize()); },
  });
}

/** What a refused ingestion batch adds: the refusal under its code, and its invalid rows when it had some. */
export function countRefusedBatch(metrics: Metrics, dataset: string, code: string, invalidRowCount: number): void {
  metrics.batchesRefused.inc({ dataset, code });
  if (invalidRowCount > 0) metrics.invalidRows.inc({ dataset }, invalidRowCount);
}

/** What an ingestion batch adds to the metrics: its rows only when stored, the batch under its outcome. */
export function countIngestedBatch(metrics: Metrics, batch: { dataset: string; outcome: string; rowCount: number }): void {
  if (batch.outcome === 'stored') metrics.rowsIngested.inc({ dataset: batch.dataset }, batch.rowCount);
  metrics.batchesIngested.inc({ dataset: batch.dataset, outcome: batch.outcome });
}
