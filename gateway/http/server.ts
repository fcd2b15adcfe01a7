/**
 * The HTTP entry point: listens (HTTPS when a certificate is configured, optionally requiring client certificates
 * from the platform CA), and on SIGTERM/SIGINT stops accepting, lets in-flight requests finish (up to the grace
 * period), then closes the runtime (worker threads, database) cleanly. Plain HTTP is refused on anything but a
 * loopback address unless the operator says a TLS-terminating proxy is in front (GATEWAY_ALLOW_PLAINTEXT=1).
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { GatewayConfig } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import { createOperatorStatus, observeGatewayState } from '../observability/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { Runtime } from '../runtime/index.js';
import { checkWritable } from '../runtime/index.js';
import { createApp } from './app.js';

export interface RunningServer {
  readonly server: http.Server;
  readonly url: string;
  /** Graceful stop; resolves once the runtime is closed. */
  stop(): Promise<void>;
}

const OBJECTION_SWEEP_MS = 60_000;
/** The retention job runs daily, the first time a while after start so that a restart loop cannot run it again and again. */
const RETENTION_INTERVAL_MS = 86_400_000;
const RETENTION_FIRST_RUN_MS = 600_000;

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

function createHttpServer(config: GatewayConfig, caCertificatePem: string, app: Express): http.Server {
  if (!config.tls) {
    if (!isLoopback(config.host) && !config.allowPlaintext) {
      throw new GatewayError('invalid_configuration',
        `refusing to serve plain HTTP on ${config.host}: request signatures stop replay and tampering, but not eavesdropping on answers. ` +
        'Set GATEWAY_TLS_CERT and GATEWAY_TLS_KEY (`gateway init --tls` issues them), or GATEWAY_ALLOW_PLAINTEXT=1 behind a TLS-terminating proxy');
    }
    return http.createServer(app);
  }
  const requireClientCertificates = config.tls.clientCertificates === 'require';
  return https.createServer({
    cert: fs.readFileSync(config.tls.certFile),
    key: fs.readFileSync(config.tls.keyFile),
    ca: caCertificatePem,
    requestCert: requireClientCertificates,
    rejectUnauthorized: requireClientCertificates,
    minVersion: 'TLSv1.2',
  }, app);
}

export async function startServer(runtime: Runtime, logger: Logger, metrics: Metrics): Promise<RunningServer> {
  let shuttingDown = false;
  const { config } = runtime;
  const checkReady = async () => {
    await runtime.store.ping();
    checkWritable(config.dataDir, config.minFreeBytes, runtime.audit.log);
  };
  const app = createApp({
    logger,
    metrics,
    checkReady,
    isShuttingDown: () => shuttingDown,
    gatewayId: config.gatewayId,
    clockSkewSeconds: config.clockSkewSeconds,
    maxBodyBytes: config.maxBodyBytes,
    caCertificatePem: runtime.caCertificatePem,
    store: runtime.store,
    participants: runtime.participants,
    enrolment: runtime.enrolment,
    questions: runtime.questions,
    monitorRules: runtime.monitorRules,
    signingKeys: runtime.signingKeys,
    signer: runtime.signer,
    authenticator: runtime.authenticator,
    ingestor: runtime.ingestor,
    audit: runtime.audit,
    consents: runtime.consents,
    verifications: runtime.verifications,
    scorecards: runtime.scorecards,
    scores: runtime.scores,
    backtests: runtime.backtests,
    monitoring: runtime.monitoring,
    templates: runtime.templates,
    reports: runtime.reports,
    reportRenderer: runtime.reportRenderer,
    publicUrl: config.reports.publicUrl,
    objections: runtime.objections,
    support: runtime.support,
    operatorStatus: createOperatorStatus({ ...runtime, checkReady }),
    misuse: runtime.misuse,
  });
  observeGatewayState(metrics, {
    auditLogSize: () => runtime.audit.log.size(),
    latestCheckpoint: () => runtime.audit.store.latestCheckpoint(),
    outboxEvents: () => runtime.store.countEvents(),
    uplinkManifests: () => runtime.store.countManifests(),
    replayCacheSize: () => runtime.store.countRememberedRequests(),
  });
  const server = createHttpServer(config, runtime.caCertificatePem, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  runtime.audit.checkpointer.start();
  runtime.monitoring.delivery.start();
  // Sends only while this process leads `uplink` (it asks at every poll); a no-op while GATEWAY_UPLINK_URL is unset.
  runtime.uplink.worker.start();
  // Sweeps and scans run in one process on the database (Coordination.leads); the others only serve requests.
  // Objections past their deadline are flagged (and audited) within a minute of it.
  const sweepObjections = async () => {
    try {
      const flagged = await runtime.store.leads('objection-sweep') ? await runtime.objections.sweepOverdue() : 0;
      if (flagged > 0) logger.warn({ objections: flagged }, 'objections overdue: their deadline passed unresolved');
    } catch (error) {
      logger.error({ err: error }, 'the overdue-objection sweep failed; retrying in a minute');
    }
  };
  const objectionSweep = setInterval(sweepObjections, OBJECTION_SWEEP_MS);
  objectionSweep.unref();
  void sweepObjections();
  // Misuse flags go to the operator through the log (and the audit entries `gateway misuse flags` lists).
  const scanMisuse = async () => {
    try {
      const flags = await runtime.store.leads('misuse-scan') ? await runtime.misuse.scan() : [];
      for (const flag of flags) logger.warn({ rule: flag.rule, bank: flag.bank, severity: flag.severity, evidence: flag.evidence, suspended: flag.suspended, audit_index: flag.auditIndex }, 'misuse rule flagged a bank');
      await runtime.notifyMisuse?.(flags);
    } catch (error) {
      logger.error({ err: error }, 'the misuse scan failed; retrying at the next interval');
    }
  };
  const misuseScan = setInterval(scanMisuse, config.misuse.scanIntervalMs);
  misuseScan.unref();
  // Records past their dataset's retention are purged once a day (docs/retention.md), by one process on the database.
  const retention = runtime.retention.job('gateway');
  const runRetention = async () => {
    try {
      if (!await runtime.store.leads('retention')) return;
      const run = await retention.run();
      if (run.purged.length > 0 || run.destroyedKeys.length > 0) {
        logger.info({ batches: run.purged.length, records: run.purged.reduce((sum, batch) => sum + batch.records, 0), data_keys: run.destroyedKeys.map((key) => key.keyId) },
          'retention: records past their period purged');
      }
    } catch (error) {
      logger.error({ err: error }, 'the retention job failed; retrying tomorrow (or run gateway retention run)');
    }
  };
  let retentionTimer = setTimeout(function scheduled() {
    void runRetention().finally(() => {
      // A run that ends while the gateway stops schedules no other.
      if (shuttingDown) return;
      retentionTimer = setTimeout(scheduled, RETENTION_INTERVAL_MS);
      retentionTimer.unref();
    });
  }, RETENTION_FIRST_RUN_MS);
  retentionTimer.unref();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
      await closed;
      clearTimeout(grace);
      clearInterval(objectionSweep);
      clearInterval(misuseScan);
      clearTimeout(retentionTimer);
      await runtime.monitoring.delivery.stop();
      await runtime.uplink.worker.stop();
      await runtime.close();
      logger.info('gateway stopped');
    })();
    return stopping;
  };
  return { server, url: `${config.tls ? 'https' : 'http'}://${host}:${address.port}`, stop };
}
