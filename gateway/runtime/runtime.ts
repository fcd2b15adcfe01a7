/**
 * Wires the gateway's parts from a validated config: keys, store, dataset registry, keyring, ingestor and record
 * reader. The CLI commands and the HTTP server both start from here, so there is one way to open the gateway.
 */
import path from 'node:path';
import type { GatewayConfig } from '../config/index.js';
import { datasetIds, loadDatasetRegistry } from '../datasets/registry.js';
import type { DatasetRegistry } from '../datasets/registry.js';
import { createIngestor } from '../ingest/index.js';
import type { Ingestor, IngestReceipt } from '../ingest/index.js';
import { createParticipantRegistry, createReplayGuard, createRequestAuthenticator, ensureAuthority, loadAuthority } from '../identity/index.js';
import type { ParticipantRegistry, RequestAuthenticator } from '../identity/index.js';
import { ensureSecrets, ensureSigningKeys, loadSecrets, openDataKeyring, openSigningKeys, SIGNING_KEYS_FILE } from '../keys/index.js';
import type { DataKeyring, SigningKeySet } from '../keys/index.js';
import { createGatewaySigner } from '../signing/signer.js';
import type { GatewaySigner } from '../signing/signer.js';
import { createRecordReader } from '../records/index.js';
import type { RecordReader } from '../records/index.js';
import { openSqliteStore } from '../store/index.js';
import type { Store } from '../store/index.js';

export const DATABASE_FILE = 'gateway.sqlite';

export interface Runtime {
  readonly config: GatewayConfig;
  readonly store: Store;
  readonly registry: DatasetRegistry;
  readonly keyring: DataKeyring;
  readonly ingestor: Ingestor;
  readonly records: RecordReader;
  readonly participants: ParticipantRegistry;
  /** The platform root certificate (PEM), served at GET /v1/ca. */
  readonly caCertificatePem: string;
  readonly signingKeys: SigningKeySet;
  readonly signer: GatewaySigner;
  readonly authenticator: RequestAuthenticator;
  close(): Promise<void>;
}

/**
 * Creates missing key material (idempotent): data secrets, the platform CA and the gateway's signing keys. Returns
 * the names of the files it created; existing keys are never overwritten.
 */
export async function initialise(config: GatewayConfig): Promise<string[]> {
  const created = [...ensureSecrets(config.keysDir), ...ensureAuthority(config.keysDir, config.gatewayId)];
  if (await ensureSigningKeys(config.keysDir)) created.push(SIGNING_KEYS_FILE);
  return created;
}

export interface RuntimeHooks {
  /** Called after each committed ingestion batch, stored or duplicate (metrics). */
  readonly onBatch?: (receipt: IngestReceipt) => void;
}

export function openRuntime(config: GatewayConfig, hooks: RuntimeHooks = {}): Runtime {
  const secrets = loadSecrets(config.keysDir);
  const caCertificatePem = loadAuthority(config.keysDir).certificatePem;
  const signingKeys = openSigningKeys(config.keysDir, config.signatureLifetimeDays);
  const registry = loadDatasetRegistry();
  const store = openSqliteStore({ file: path.join(config.dataDir, DATABASE_FILE) });
  try {
    const keyring = openDataKeyring(store, secrets.kek);
    keyring.current();
    const ingestor = createIngestor({
      store, registry, keyring, blindIndexKey: secrets.blindIndex, workers: config.ingestWorkers,
      maxRecordBytes: config.maxRecordBytes, onBatch: hooks.onBatch,
    });
    const nowSeconds = () => Math.floor(Date.now() / 1000);
    return {
      config, store, registry, keyring, ingestor, caCertificatePem, signingKeys,
      records: createRecordReader(store, registry, keyring, secrets.blindIndex),
      // The CA's private key is read only when a certificate is issued, not kept in the serving process.
      participants: createParticipantRegistry({ store, authority: () => loadAuthority(config.keysDir), datasetIds }),
      signer: createGatewaySigner({ keys: signingKeys, issuer: config.gatewayId, lifetimeDays: config.signatureLifetimeDays }),
      authenticator: createRequestAuthenticator({
        store, caCertificatePem, audience: config.gatewayId, clockSkewSeconds: config.clockSkewSeconds,
        replayGuard: createReplayGuard(store, nowSeconds), nowSeconds,
      }),
      async close() {
        await ingestor.close();
        store.close();
      },
    };
  } catch (error) {
    store.close();
    throw error;
  }
}
