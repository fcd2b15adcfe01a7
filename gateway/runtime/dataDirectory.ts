/**
 * The data directory as the gateway vouches for it at every start: whether it is fresh (nothing stored yet, so keys
 * may be created for it), and that it was created private (0700).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../config/index.js';
import { KEY_FINGERPRINTS_FILE } from '../keys/index.js';

import { AUDIT_DATABASE_FILE, DATABASE_FILE } from './files.js';

export { AUDIT_DATABASE_FILE, DATABASE_FILE };
/** Fresh: none of the files a used data directory holds exists yet, nor the latest signed checkpoint. */
export function isFreshDataDirectory(config: Pick<GatewayConfig, 'dataDir' | 'checkpointFile'>): boolean {
  return [DATABASE_FILE, AUDIT_DATABASE_FILE, KEY_FINGERPRINTS_FILE].every((file) => !fs.existsSync(path.join(config.dataDir, file)))
    && !fs.existsSync(config.checkpointFile);
}

/** Creates the data directory 0700 if it is missing (an existing directory's mode is the operator's). */
export function ensureDataDirectory(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}
