/**
 * The national uplink (docs/uplink.md): every stored batch's manifest — what was stored, from whom, its content hash
 * and its audit entry, never a record value — signed by the gateway, encrypted to the national platform's key and
 * POSTed to its endpoint, at least once, from an outbox in the store.
 *
 * A manifest is queued inside its batch's transaction (so a stored batch always has one, whatever happens after the
 * commit); batches stored before the uplink was enabled are queued by the backfill the worker runs when it first
 * leads. A manifest falls due once its batch has its audit entry (the manifest names it), is sealed once (every retry
 * sends the same bytes), and is delivered when the platform answers 2xx with a receipt it signed over the manifest id
 * and content hash: the receipt is verified, stored and audited (`uplink.acknowledged`). Anything else — no answer,
 * another status, a 2xx without a valid receipt — is a failed attempt, retried with capped exponential backoff and
 * jitter until the retry horizon, then dead-lettered (`uplink.dead_lettered`) for the operator (`gateway uplink`).
 *
 * One process on the database sends (Coordination.leads('uplink')). The endpoint is resolved and its addresses checked
 * before every attempt, and the connection goes to the checked address (identity/webhookTarget.ts), as for webhooks.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/index.js';
import type { GatewayConfig, UplinkConfig } from '../config/index.js';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import type { WebhookTarget } from '../identity/webhookTarget.js';
import { postToTarget } from '../identity/webhookTarget.js';
import { backoffMs, describeFailure } from '../monitoring/delivery.js';
import type { Logger } from '../observability/index.js';
import { SIGNED_TYPES } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import type { Coordination, UplinkBatchTransaction, UplinkManifest, UplinkState, UplinkStore } from '../store/index.js';
import { ReceiptError } from './platform.js';
import type { Platform } from './platform.js';

/** The longest receipt read from an answer: a compact JWS of three short claims is far below it. */
const RECEIPT_LIMIT = 16 * 1024;
const ERROR_DETAIL = 200;
/** Batches queued per statement by the backfill. */
const BACKFILL_CHUNK = 500;

/** The claims of a manifest: provenance and integrity of one batch, never a record value. */
export interface ManifestClaims {
  readonly manifest_id: string;
  readonly batch: {
    readonly batch_id: string;
    readonly dataset: string;
    readonly as_of: string;
    readonly source: string;
    readonly format: string;
    readonly content_sha256: string;
    readonly row_count: number;
    readonly received_at: string;
  };
  /** The batch's `ingest.batch` entry in the gateway's transparency log (docs/audit.md): the platform may ask for its proof. */
  readonly audit: { readonly origin: string; readonly index: number };
}

/** A manifest as the operator sees it: delivery bookkeeping and the batch it is about. */
export interface ManifestSummary {
  readonly manifest_id: string;
  readonly batch_id: string;
  readonly dataset: string;
  readonly as_of: string;
  readonly state: UplinkState;
  readonly attempts: number;
  readonly created_at: string;
  /** Null while the batch's audit entry is still to be written: the manifest waits for it. */
  readonly batch_audit_index: number | null;
  readonly next_attempt_at: string | null;
  readonly last_error: string | null;
  readonly acknowledged_at: string | null;
  /** When the platform says it received the manifest (its receipt). */
  readonly received_at: string | null;
}

export interface UplinkWorker {
  start(): void;
  /** Looks at the outbox now (a batch was stored). */
  nudge(): void;
  /** Stops taking work, cuts off attempts in flight (they stay pending) and waits for them. */
  stop(): Promise<void>;
}

export interface Uplink {
  readonly worker: UplinkWorker;
  /** Ingestion's beforeCommit part: queues the batch's manifest in the batch's transaction. */
  beforeCommit(transaction: UplinkBatchTransaction): Promise<void>;
  /** Queues a manifest for every stored batch that has none; returns how many. */
  backfill(): Promise<number>;
  list(filter: { state?: UplinkState | undefined }, limit: number): Promise<ManifestSummary[]>;
  /** The manifest of one batch, whatever its state. */
  ofBatch(batchId: string): Promise<ManifestSummary | undefined>;
  /** Dead manifests (these ids, or all) back to pending; an audit entry names them. */
  replay(manifestIds: readonly string[] | 'all_dead'): Promise<string[]>;
}

export interface UplinkDependencies {
  readonly store: UplinkStore & Coordination;
  readonly audit: AuditLog;
  readonly signer: GatewaySigner;
  readonly logger: Logger;
  readonly gateway: Pick<GatewayConfig, 'auditOrigin'>;
  /** Undefined: the uplink is off (nothing is queued or sent; the operator may still list and replay). */
  readonly delivery: { readonly config: UplinkConfig; readonly platform: Platform } | undefined;
  /** Resolves and checks the endpoint's host before each attempt (identity/webhookTarget.ts). */
  readonly resolveTarget: (url: string) => Promise<WebhookTarget>;
  readonly now?: () => number;
  readonly random?: () => number;
}

function summary(manifest: UplinkManifest): ManifestSummary {
  return {
    manifest_id: manifest.manifestId, batch_id: manifest.batch.batchId, dataset: manifest.batch.dataset, as_of: manifest.batch.asOf,
    state: manifest.state, attempts: manifest.attempts, created_at: manifest.createdAt, batch_audit_index: manifest.batchAuditIndex ?? null,
    next_attempt_at: manifest.state === 'pending' ? new Date(manifest.nextAttemptAt).toISOString() : null, last_error: manifest.lastError ?? null,
    acknowledged_at: manifest.receipt?.acknowledgedAt ?? null, received_at: manifest.receipt?.receivedAt ?? null,
  };
}

function manifestClaims(manifest: UplinkManifest, auditIndex: number, auditOrigin: string): ManifestClaims {
  const { batch } = manifest;
  return {
    manifest_id: manifest.manifestId,
    batch: {
      batch_id: batch.batchId, dataset: batch.dataset, as_of: batch.asOf, source: batch.source, format: batch.format,
      content_sha256: batch.contentHash, row_count: batch.rowCount, received_at: batch.receivedAt,
    },
    audit: { origin: auditOrigin, index: auditIndex },
  };
}

export function createUplink(deps: UplinkDependencies): Uplink {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const inFlight = new Set<AbortController>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let scanning: Promise<void> | undefined;
  let rescan = false;
  let backfilled = false;

  async function backfill(): Promise<number> {
    let total = 0;
    for (;;) {
      const batchIds = await deps.store.batchesWithoutManifest(BACKFILL_CHUNK);
      if (batchIds.length === 0) return total;
      const createdAt = new Date(now()).toISOString();
      const queued = await deps.store.queueManifests(batchIds.map((batchId) => ({ manifestId: randomUUID(), batchId, createdAt })));
      total += queued;
      // Nothing queued: another process queued these meanwhile; what is left is theirs too.
      if (queued === 0 || batchIds.length < BACKFILL_CHUNK) return total;
    }
  }

  /** The manifest's JWE, signing and encrypting it first if it has none yet; the stored one is what every attempt sends. */
  async function sealed(manifest: UplinkManifest, delivery: NonNullable<UplinkDependencies['delivery']>): Promise<string> {
    if (manifest.jwe) return manifest.jwe;
    // Due manifests are those whose batch has its audit entry (dueManifests), so the index is there.
    const claims = manifestClaims(manifest, manifest.batchAuditIndex as number, deps.gateway.auditOrigin);
    // jti is the manifest id: the platform's idempotency key, the same as the idempotency-key header.
    const jws = await deps.signer.sign(SIGNED_TYPES.uplinkManifest, new URL(delivery.config.url).origin, { ...claims, jti: manifest.manifestId });
    await deps.store.markManifestSealed(manifest.manifestId, await delivery.platform.seal(jws));
    // Another process may have sealed it first (a leader that changed meanwhile): the stored JWE is the one sent.
    const stored = await deps.store.getManifest(manifest.manifestId);
    if (!stored?.jwe) throw new GatewayError('internal_error', `the manifest ${manifest.manifestId} was not stored sealed`);
    return stored.jwe;
  }

  /** One attempt: the receipt's JWS and claims when the platform acknowledged, else why not. */
  async function attempt(manifest: UplinkManifest, jwe: string, delivery: NonNullable<UplinkDependencies['delivery']>):
    Promise<{ receipt: string; receivedAt: string } | { failure: string }> {
    const controller = new AbortController();
    inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(new Error('timed out')), delivery.config.timeoutMs);
    try {
      const target = await deps.resolveTarget(delivery.config.url);
      const response = await postToTarget(target, {
        'content-type': 'application/jose', accept: 'application/jose', 'idempotency-key': manifest.manifestId,
      }, jwe, controller.signal, RECEIPT_LIMIT);
      if (response.status < 200 || response.status >= 300) return { failure: `HTTP ${response.status} ${response.text.slice(0, ERROR_DETAIL)}` };
      const receipt = response.text.trim();
      const claims = await delivery.platform.checkReceipt(receipt, { manifestId: manifest.manifestId, contentSha256: manifest.batch.contentHash });
      return { receipt, receivedAt: claims.received_at };
    } catch (error) {
      if (error instanceof ReceiptError) return { failure: `HTTP 2xx without a valid receipt: ${error.message}` };
      return { failure: describeFailure(error) };
    } finally {
      clearTimeout(timeout);
      inFlight.delete(controller);
    }
  }

  async function deliver(manifest: UplinkManifest, delivery: NonNullable<UplinkDependencies['delivery']>): Promise<void> {
    const jwe = await sealed(manifest, delivery);
    if (!running) return;
    const outcome = await attempt(manifest, jwe, delivery);
    // Cut off by stop(): neither an acknowledgement nor a counted failure; it is sent again after the restart.
    if (!running) return;
    if ('receipt' in outcome) {
      // Audited before it is marked: a crash in between sends the manifest again, and the platform answers with its receipt again.
      const appended = await deps.audit.append({
        kind: 'uplink.acknowledged', actor: 'gateway', details: {
          manifest_id: manifest.manifestId, batch_id: manifest.batch.batchId, dataset: manifest.batch.dataset,
          content_sha256: manifest.batch.contentHash, batch_audit_index: manifest.batchAuditIndex as number,
          manifest_sha256: sha256Hex(jwe), receipt_sha256: sha256Hex(outcome.receipt), received_at: outcome.receivedAt,
        },
      });
      await deps.store.markManifestAcknowledged(manifest.manifestId, {
        jws: outcome.receipt, receivedAt: outcome.receivedAt, acknowledgedAt: new Date(now()).toISOString(), auditIndex: appended.index,
      });
      return;
    }
    const attempts = manifest.attempts + 1;
    const at = now();
    const deadline = manifest.retryFrom + delivery.config.retryHorizonMs;
    const dead = at >= deadline;
    const nextAttemptAt = Math.min(at + backoffMs(attempts, delivery.config, random), deadline);
    if (dead) {
      await deps.audit.append({
        kind: 'uplink.dead_lettered', actor: 'gateway',
        details: { manifest_id: manifest.manifestId, batch_id: manifest.batch.batchId, attempts, last_error: outcome.failure },
      });
    }
    await deps.store.markManifestFailed(manifest.manifestId, { attempts, nextAttemptAt, error: outcome.failure, dead });
    if (dead) deps.logger.warn({ manifest_id: manifest.manifestId, batch_id: manifest.batch.batchId, attempts, error: outcome.failure }, 'uplink manifest dead-lettered');
  }

  async function sendDue(delivery: NonNullable<UplinkDependencies['delivery']>): Promise<void> {
    while (running) {
      const due = await deps.store.dueManifests(now(), delivery.config.concurrency * 4);
      if (due.length === 0) return;
      let next = 0;
      const worker = async () => {
        while (running && next < due.length) await deliver(due[next++] as UplinkManifest, delivery);
      };
      await Promise.all(Array.from({ length: Math.min(delivery.config.concurrency, due.length) }, worker));
    }
  }

  async function scanOnce(delivery: NonNullable<UplinkDependencies['delivery']>): Promise<void> {
    // One process on the database sends, so that no manifest goes out twice from two instances at once.
    if (!(await deps.store.leads('uplink'))) return;
    if (!backfilled) {
      const queued = await backfill();
      backfilled = true;
      if (queued > 0) deps.logger.info({ manifests: queued }, 'uplink: queued the manifests of batches stored before it was enabled');
    }
    await sendDue(delivery);
  }

  function scan(): void {
    const delivery = deps.delivery;
    if (!running || !delivery) return;
    if (scanning) {
      rescan = true;
      return;
    }
    scanning = scanOnce(delivery)
      .catch((error: unknown) => deps.logger.error({ err: error }, 'uplink outbox scan failed; retrying at the next poll'))
      .finally(() => {
        scanning = undefined;
        if (rescan && running) {
          rescan = false;
          setImmediate(scan);
        }
      });
  }

  const worker: UplinkWorker = {
    start() {
      if (running || !deps.delivery) return;
      running = true;
      timer = setInterval(scan, deps.delivery.config.pollMs);
      timer.unref();
      setImmediate(scan);
    },
    nudge() {
      if (running) scan();
    },
    async stop() {
      running = false;
      if (timer) clearInterval(timer);
      for (const controller of inFlight) controller.abort(new Error('gateway stopping'));
      await scanning;
    },
  };

  return {
    worker,
    async beforeCommit(transaction) {
      if (deps.delivery) await transaction.queueManifest(randomUUID(), new Date(now()).toISOString());
    },
    backfill,
    list: async (filter, limit) => (await deps.store.listManifests(filter, 0, limit)).map(summary),
    async ofBatch(batchId) {
      const manifest = await deps.store.getManifestOfBatch(batchId);
      return manifest && summary(manifest);
    },
    async replay(manifestIds) {
      if (manifestIds !== 'all_dead') {
        const stored = await Promise.all(manifestIds.map((id) => deps.store.getManifest(id)));
        const unknown = manifestIds.filter((_, index) => stored[index] === undefined);
        if (unknown.length > 0) throw new GatewayError('not_found', `no such manifest: ${unknown.join(', ')}`);
        const notDead = manifestIds.filter((_, index) => stored[index]?.state !== 'dead');
        if (notDead.length > 0) throw new GatewayError('invalid_argument', `not dead-lettered: ${notDead.join(', ')}`);
      }
      const dead = manifestIds === 'all_dead'
        ? (await deps.store.listManifests({ state: 'dead' }, 0, Number.MAX_SAFE_INTEGER)).map((manifest) => manifest.manifestId)
        : manifestIds;
      if (dead.length === 0) return [];
      await deps.audit.append({ kind: 'uplink.replayed', actor: 'operator', details: { manifest_ids: [...dead] } });
      const replayed = await deps.store.replayManifests(dead, now());
      worker.nudge();
      return replayed;
    },
  };
}
