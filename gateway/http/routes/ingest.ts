/**
 * POST /v1/ingest/{dataset}: a source participant pushes one batch (CSV, NDJSON or a JSON array, by Content-Type)
 * for a dataset it is bound to, and gets back a receipt signed by the gateway to keep for reconciliation. With
 * ?objection=<id> the batch corrects that objection (docs/objections.md): it is checked before the body is read,
 * closed in the batch's transaction, and the banks are told before the answer.
 */
import { Router } from 'express';
import type { NextFunction, Request, Response } from 'express';
import { GatewayError, InvalidRowsError } from '../../errors/index.js';
import type { RequestAuthenticator } from '../../identity/index.js';
import type { IngestReceipt, Ingestor, InputFormat } from '../../ingest/index.js';
import type { ObjectionService } from '../../objections/index.js';
import { datasetIds, isDatasetId } from '../../datasets/registry.js';
import type { GatewaySigner } from '../../signing/signer.js';
import { SIGNED_TYPES } from '../../signing/signer.js';
import { countRefusedBatch } from '../../observability/index.js';
import type { Metrics } from '../../observability/index.js';
import type { IdempotentResponder } from '../idempotency.js';
import { bodyOf, principalOf, signedRequest } from '../signedRequest.js';

export interface IngestDependencies {
  readonly authenticator: RequestAuthenticator;
  readonly ingestor: Ingestor;
  readonly signer: GatewaySigner;
  readonly idempotency: IdempotentResponder;
  readonly objections: ObjectionService;
  readonly maxBodyBytes: number;
  readonly metrics: Metrics;
}

const FORMATS: Readonly<Record<string, InputFormat>> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/json': 'json',
};

function formatOf(req: Request): InputFormat {
  const mediaType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const format = FORMATS[mediaType];
  if (!format) throw new GatewayError('unsupported_format', `Content-Type must be one of ${Object.keys(FORMATS).join(', ')}`);
  return format;
}

function optionalQuery(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new GatewayError('invalid_argument', `query parameter "${name}" must appear once`);
  return value;
}

/** The receipt's claims: what was stored, never a record value. */
export function receiptClaims(receipt: IngestReceipt) {
  return {
    outcome: receipt.outcome,
    batch_id: receipt.batchId,
    dataset: receipt.dataset,
    source: receipt.source,
    format: receipt.format,
    row_count: receipt.rowCount,
    content_sha256: receipt.contentHash,
    as_of: receipt.asOf,
    received_at: receipt.receivedAt,
    audit_index: receipt.auditIndex,
  };
}

export function ingestRoutes(deps: IngestDependencies): Router {
  const router = Router();
  router.post(
    '/v1/ingest/:dataset',
    ...signedRequest(deps.authenticator, ['source'], deps.maxBodyBytes),
    async function checkDatasetBinding(req: Request, res: Response, next: NextFunction) {
      const dataset = String(req.params['dataset']);
      if (!isDatasetId(dataset)) {
        throw new GatewayError('unknown_dataset', `unknown dataset ${JSON.stringify(dataset.slice(0, 64))}; known: ${datasetIds.join(', ')} (docs/data-catalog.md)`);
      }
      if (!principalOf(res).datasets.includes(dataset)) throw new GatewayError('dataset_not_permitted', `this source is not bound to ${dataset}`);
      const objectionId = optionalQuery(req, 'objection');
      if (objectionId !== undefined) await deps.objections.checkCorrection(principalOf(res), objectionId, dataset);
      next();
    },
    deps.idempotency.check,
    async function ingestBatch(req: Request, res: Response) {
      const principal = principalOf(res);
      const body = bodyOf(res);
      const dataset = String(req.params['dataset']);
      const objectionId = optionalQuery(req, 'objection');
      let receipt: IngestReceipt;
      try {
        receipt = await deps.ingestor.ingest({
          dataset,
          format: formatOf(req),
          input: (async function* () { yield body; })(),
          source: principal.participantId,
          asOf: optionalQuery(req, 'as_of'),
          batchId: optionalQuery(req, 'batch_id'),
          requestSha256: principal.requestSha256,
          objectionId,
        });
      } catch (error) {
        if (error instanceof GatewayError) countRefusedBatch(deps.metrics, dataset, error.code, error instanceof InvalidRowsError ? error.invalidRowCount : 0);
        throw error;
      }
      const objection = objectionId === undefined ? undefined : await deps.objections.completeCorrection(principal, objectionId, receipt.batchId);
      const claims = { ...receiptClaims(receipt), ...(objectionId === undefined ? {} : { objection_id: objectionId }) };
      const signed = await deps.signer.sign(SIGNED_TYPES.ingestReceipt, principal.participantId, {
        ...claims,
        request_sha256: principal.requestSha256,
      });
      await deps.idempotency.send(res, receipt.outcome === 'stored' ? 201 : 200, { receipt: signed, batch: claims, ...(objection ? { objection } : {}) });
    },
  );
  return router;
}
