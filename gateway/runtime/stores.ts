/**
 * The one place that picks the storage engine: GATEWAY_DATABASE_URL names a PostgreSQL database that several gateway
 * instances share; without it, the embedded SQLite files in the data directory (what `npm start` needs nothing for).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import { openPostgresAuditStore, openPostgresStore, openSqliteAuditStore, openSqliteStore, redactUrl } from '../store/index.js';
import type { AuditStore, Store } from '../store/index.js';
import { openCheckedStore } from './databaseCheck.js';
import { AUDIT_DATABASE_FILE, DATABASE_FILE } from './files.js';

type StoreConfig = Pick<GatewayConfig, 'dataDir' | 'databaseUrl'>;

/** The gateway's store, checked for damage before anything reads it. */
export async function openGatewayStore(config: StoreConfig): Promise<Store> {
  if (config.databaseUrl !== undefined) return openCheckedStore(redactUrl(config.databaseUrl), () => openPostgresStore({ url: config.databaseUrl as string }));
  const file = path.join(config.dataDir, DATABASE_FILE);
  return openCheckedStore(file, async () => openSqliteStore({ file }));
}

/** The audit log's store: its own file on SQLite, tables beside the others on PostgreSQL. */
export async function openGatewayAuditStore(config: StoreConfig): Promise<AuditStore> {
  if (config.databaseUrl !== undefined) return openCheckedStore(redactUrl(config.databaseUrl), () => openPostgresAuditStore({ url: config.databaseUrl as string }));
  const file = path.join(config.dataDir, AUDIT_DATABASE_FILE);
  return openCheckedStore(file, async () => openSqliteAuditStore({ file }));
}

/**
 * For commands that read what a gateway wrote (`audit verify`, `participants list`, …): refuses where there is
 * nothing, instead of creating an empty store that would read as a clean one.
 */
export function requireExistingStore(config: StoreConfig, file: typeof DATABASE_FILE | typeof AUDIT_DATABASE_FILE): string {
  if (config.databaseUrl !== undefined) return redactUrl(config.databaseUrl);
  const location = path.join(config.dataDir, file);
  if (!fs.existsSync(location)) {
    if (file === AUDIT_DATABASE_FILE) throw new GatewayError('not_found', `there is no audit log at ${location}`);
    throw new GatewayError('not_found', `there is no gateway store at ${location}: start the gateway once (npm start), `
      + 'or point GATEWAY_DATA_DIR at its data directory (GATEWAY_DATABASE_URL at its PostgreSQL database)');
  }
  return location;
}
