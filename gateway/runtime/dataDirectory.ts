/**
 * The data directory as the gateway vouches for it at every start: whether it is fresh (nothing stored yet, so keys
 * may be created for it), and that it was created private (0700).
 */
import fs from 'node:fs';
import path from 'node:path';
import { KEY_FINGERPRINTS_FILE } from '../keys/index.js';

export const DATABASE_FILE = 'gateway.sqlite';
export const AUDIT_DATABASE_FILE = 'audit.sqlite';
/** The latest signed checkpoint, kept beside the audit database (gateway/audit/anchor.ts). */
export const CHECKPOINT_FILE = 'audit-checkpoint.txt';

/** Fresh: none of the files a used data directory holds exists yet. */
export function isFreshDataDirectory(dataDir: string): boolean {
  return [DATABASE_FILE, AUDIT_DATABASE_FILE, KEY_FINGERPRINTS_FILE, CHECKPOINT_FILE].every((file) => !fs.existsSync(path.join(dataDir, file)));
}

/** Creates the data directory 0700 if it is missing (an existing directory's mode is the operator's). */
export function ensureDataDirectory(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}
