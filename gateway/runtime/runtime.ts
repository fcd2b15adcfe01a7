/**
 * Wires the gateway's parts from a validated config: keys, store, dataset registry, keyring, ingestor and record
 * reader. The CLI commands and the HTTP server both start from here, so there is one way to open the gateway.
 */
import path from 'node:path';
import type { GatewayConfig } from '../config/index.js';
import { loadDatasetRegistry } from '../datasets/registry.js';
import type { DatasetRegistry } from '../datasets/registry.js';
import { createIngestor } from '../ingest/index.js';
import type { Ingestor, IngestReceipt } from '../ingest/index.js';
import { ensureSecrets, loadSecrets, openDataKeyring } from '../keys/index.js';
import type { DataKeyring } from '../keys/index.js';
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
  close(): Promise<void>;
}

/** Creates missing key material (idempotent); returns the files it created. */
export function initialise(config: GatewayConfig): string[] {
  return ensureSecrets(config.keysDir);
}

export interface RuntimeHooks {
  /** Called after each committed ingestion batch, stored or duplicate (metrics). */
  readonly onBatch?: (receipt: IngestReceipt) => void;
}

export function openRuntime(config: GatewayConfig, hooks: RuntimeHooks = {}): Runtime {
  const secrets = loadSecrets(config.keysDir);
  const registry = loadDatasetRegistry();
  const store = openSqliteStore({ file: path.join(config.dataDir, DATABASE_FILE) });
  try {
    const keyring = openDataKeyring(store, secrets.kek);
    keyring.current();
    const ingestor = createIngestor({
      store, registry, keyring, blindIndexKey: secrets.blindIndex, workers: config.ingestWorkers,
      maxRecordBytes: config.maxRecordBytes, onBatch: hooks.onBatch,
    });
    return {
      config, store, registry, keyring, ingestor,
      records: createRecordReader(store, registry, keyring, secrets.blindIndex),
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
