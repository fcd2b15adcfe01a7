/**
 * What the operator's page shows about the running gateway: whether it can serve and why not, the audit log's size
 * and latest checkpoint, which signing and data keys exist and since when, when the CA certificate expires, and the
 * batches received with their receipts in the log. Ids, dates, sizes and hashes only: never key material and never
 * a record value, so an operator's read of it tells nothing about any subject.
 */
import { X509Certificate } from 'node:crypto';
import { GatewayError } from '../errors/index.js';
import type { DataKeyring, SigningKeySet } from '../keys/index.js';
import type { AuditRuntime } from '../runtime/index.js';
import type { Store } from '../store/index.js';

export interface OperatorStatusDependencies {
  readonly store: Pick<Store, 'engine' | 'listBatches' | 'listDataKeys'>;
  readonly audit: Pick<AuditRuntime, 'log' | 'store'>;
  readonly signingKeys: SigningKeySet;
  readonly keyring: Pick<DataKeyring, 'current'>;
  readonly caCertificatePem: string;
  /** The readiness probe's own check: throws when the gateway cannot serve. */
  readonly checkReady: () => Promise<void>;
}

export interface StatusView {
  readonly ready: boolean;
  /** Why not, as a GatewayError code (storage_unavailable, audit_log_inconsistent, storage_full, …). */
  readonly not_ready: string | null;
  readonly engine: string;
  readonly audit_log: {
    readonly size: number;
    readonly halted: string | null;
    readonly latest_checkpoint: { readonly tree_size: number; readonly created_at: string } | null;
  };
  readonly signing_keys: { readonly kid: string; readonly created_at: string; readonly retired_at: string | null; readonly current: boolean }[];
  readonly data_keys: { readonly data_key_id: number; readonly created_at: string; readonly current: boolean }[];
  readonly ca_certificate: { readonly subject: string; readonly not_after: string; readonly sha256: string };
}

export interface BatchView {
  readonly batch_id: string;
  readonly dataset: string;
  readonly source: string;
  readonly format: string;
  readonly row_count: number;
  readonly as_of: string;
  readonly received_at: string;
  readonly content_sha256: string;
  /** The batch's `ingest.batch` entry: the receipt anyone can prove in the log. */
  readonly audit_index: number | null;
}

export interface OperatorStatus {
  status(): Promise<StatusView>;
  /** The most recent `limit` batches, newest first. */
  batches(limit: number): Promise<BatchView[]>;
}

export function createOperatorStatus(deps: OperatorStatusDependencies): OperatorStatus {
  const ca = new X509Certificate(deps.caCertificatePem);
  const caView = { subject: ca.subject, not_after: new Date(ca.validTo).toISOString(), sha256: ca.fingerprint256.replaceAll(':', '').toLowerCase() };
  return {
    async status() {
      let notReady: string | null = null;
      try {
        await deps.checkReady();
      } catch (cause) {
        notReady = cause instanceof GatewayError ? cause.code : 'storage_unavailable';
      }
      const checkpoint = await deps.audit.store.latestCheckpoint();
      const currentKid = deps.signingKeys.current().kid;
      const currentDataKey = deps.keyring.current().id;
      return {
        ready: notReady === null,
        not_ready: notReady,
        engine: deps.store.engine.name,
        audit_log: {
          size: await deps.audit.log.size(),
          halted: deps.audit.log.halted()?.code ?? null,
          latest_checkpoint: checkpoint ? { tree_size: checkpoint.treeSize, created_at: checkpoint.createdAt } : null,
        },
        signing_keys: deps.signingKeys.inventory().map((key) => ({
          kid: key.kid, created_at: key.createdAt, retired_at: key.retiredAt ?? null, current: key.kid === currentKid,
        })),
        data_keys: (await deps.store.listDataKeys()).map((key) => ({ data_key_id: key.keyId, created_at: key.createdAt, current: key.keyId === currentDataKey })),
        ca_certificate: caView,
      };
    },
    async batches(limit) {
      return (await deps.store.listBatches(limit)).map((batch) => ({
        batch_id: batch.batchId, dataset: batch.dataset, source: batch.source, format: batch.format, row_count: batch.rowCount,
        as_of: batch.asOf, received_at: batch.receivedAt, content_sha256: batch.contentHash, audit_index: batch.auditIndex ?? null,
      }));
    },
  };
}
