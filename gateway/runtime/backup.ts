/**
 * Backup and restore of a gateway's state (docs/operations.md, "Backup and restore"), for either engine: the
 * databases (SQLite's online backup API, or pg_dump's custom format), the key fingerprints and the signed checkpoint
 * the audit log had when the backup began, with a manifest of SHA-256 sums. A restore writes into an empty data
 * directory or database only, then checks the restored log against that checkpoint: a restore that lost entries the
 * checkpoint covers is reported, not served.
 *
 * The checkpoint is copied first and the audit log last, so the log backed up extends the checkpoint kept with it.
 * Keys are not in a backup: the keys directory has its own (docs/operations.md, "Keys").
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { parseCheckpoint } from '../audit/checkpoint.js';
import { verifyLog } from '../audit/verifyLog.js';
import type { LogVerification } from '../audit/verifyLog.js';
import type { GatewayConfig } from '../config/index.js';
import { openNote, parseVerifierKey } from '../crypto/note.js';
import { GatewayError } from '../errors/index.js';
import { KEY_FINGERPRINTS_FILE, loadNoteKey } from '../keys/index.js';
import { openPostgresAuditStore, openSqliteAuditStore, redactUrl } from '../store/index.js';
import { AUDIT_DATABASE_FILE, DATABASE_FILE } from './files.js';

const run = promisify(execFile);

export const MANIFEST_FILE = 'backup.json';
const FORMAT = 'credit-gateway-backup/1';
const CHECKPOINT_COPY = 'audit-checkpoint.txt';
const DUMP_FILE = 'gateway.pgdump';

export interface BackupManifest {
  readonly format: typeof FORMAT;
  readonly engine: 'sqlite' | 'postgres';
  readonly created_at: string;
  /** The checkpoint kept with the backup; the restored log must contain its tree. */
  readonly checkpoint: { readonly tree_size: number; readonly root_hash: string } | null;
  readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string }[];
}

export interface RestoreResult {
  readonly manifest: BackupManifest;
  readonly verification: LogVerification;
}

type BackupConfig = Pick<GatewayConfig, 'dataDir' | 'databaseUrl' | 'checkpointFile' | 'keysDir' | 'auditOrigin'>;

const engineOf = (config: BackupConfig) => (config.databaseUrl === undefined ? 'sqlite' : 'postgres');

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** pg_dump and pg_restore from PATH, or from PG_BIN_DIR (Debian keeps them in /usr/lib/postgresql/<n>/bin). */
function pgTool(name: 'pg_dump' | 'pg_restore'): string {
  const dir = process.env['PG_BIN_DIR'];
  return dir ? path.join(dir, name) : name;
}

async function pgRun(tool: 'pg_dump' | 'pg_restore', args: readonly string[], url: string): Promise<void> {
  try {
    await run(pgTool(tool), [...args], { maxBuffer: 16 * 1024 * 1024 });
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim().split('\n').slice(-2).join(' ') ?? '';
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new GatewayError('storage_unavailable', missing
      ? `${tool} was not found: install PostgreSQL's client programs (apt-get install postgresql-client) or set PG_BIN_DIR`
      : `${tool} failed on ${redactUrl(url)}: ${stderr.replaceAll(url, redactUrl(url))}`, { cause });
  }
}

/** Backs the gateway up into `directory`, which must not exist or be empty; returns the manifest it wrote. */
export async function backUp(config: BackupConfig, directory: string, now: () => Date = () => new Date()): Promise<BackupManifest> {
  if (fs.existsSync(directory) && fs.readdirSync(directory).length > 0) {
    throw new GatewayError('invalid_argument', `${directory} is not empty: a backup is never written over another; name a new directory`);
  }
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  const names: string[] = [];
  const keep = (from: string, name: string) => {
    if (!fs.existsSync(from)) return;
    fs.copyFileSync(from, path.join(directory, name));
    names.push(name);
  };
  keep(config.checkpointFile, CHECKPOINT_COPY);
  keep(path.join(config.dataDir, KEY_FINGERPRINTS_FILE), KEY_FINGERPRINTS_FILE);
  if (config.databaseUrl === undefined) {
    // The audit log after the store: a batch or a use committed without its entry is finished at start (recovery),
    // while an entry about a row the store's copy lacks would not be.
    for (const name of [DATABASE_FILE, AUDIT_DATABASE_FILE]) {
      const file = path.join(config.dataDir, name);
      if (!fs.existsSync(file)) throw new GatewayError('not_found', `there is no ${file} to back up`);
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        await db.backup(path.join(directory, name));
      } finally {
        db.close();
      }
      names.push(name);
    }
  } else {
    // One snapshot of the whole database (pg_dump runs in one repeatable-read transaction): the store and the log agree.
    await pgRun('pg_dump', ['--format=custom', '--no-owner', '--file', path.join(directory, DUMP_FILE), '--dbname', config.databaseUrl], config.databaseUrl);
    names.push(DUMP_FILE);
  }
  for (const name of names) fs.chmodSync(path.join(directory, name), 0o600);
  const checkpointFile = path.join(directory, CHECKPOINT_COPY);
  const manifest: BackupManifest = {
    format: FORMAT,
    engine: engineOf(config),
    created_at: now().toISOString(),
    checkpoint: fs.existsSync(checkpointFile) ? checkpointOf(config, fs.readFileSync(checkpointFile, 'utf8')) : null,
    files: names.map((name) => ({ name, bytes: fs.statSync(path.join(directory, name)).size, sha256: sha256(path.join(directory, name)) })),
  };
  fs.writeFileSync(path.join(directory, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

function checkpointOf(config: BackupConfig, note: string): { tree_size: number; root_hash: string } {
  const key = loadNoteKey(config.keysDir, config.auditOrigin);
  const checkpoint = parseCheckpoint(openNote(Buffer.from(note, 'utf8'), [parseVerifierKey(key.verifierKey)]).text);
  return { tree_size: Number(checkpoint.size), root_hash: Buffer.from(checkpoint.rootHash).toString('base64') };
}

function readManifest(directory: string): BackupManifest {
  const file = path.join(directory, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new GatewayError('file_not_found', `${file} is missing: ${directory} is not a gateway backup`);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as BackupManifest;
  } catch (cause) {
    throw new GatewayError('file_unreadable', `${file} is not JSON`, { cause });
  }
  if (manifest.format !== FORMAT) throw new GatewayError('file_unreadable', `${file} is not a ${FORMAT} manifest`);
  for (const entry of manifest.files) {
    const copy = path.join(directory, entry.name);
    if (!fs.existsSync(copy) || sha256(copy) !== entry.sha256) {
      throw new GatewayError('database_damaged', `${copy} is missing or does not match its SHA-256 in ${MANIFEST_FILE}: the backup is damaged; restore another`);
    }
  }
  return manifest;
}

/**
 * Restores the backup in `directory` into the configured data directory (and database), which must hold no gateway
 * state yet, then verifies the restored audit log against the backup's checkpoint.
 */
export async function restore(config: BackupConfig, directory: string): Promise<RestoreResult> {
  const manifest = readManifest(directory);
  if (manifest.engine !== engineOf(config)) {
    throw new GatewayError('invalid_argument', `the backup is of a ${manifest.engine} gateway, but this one is configured for ${engineOf(config)} (GATEWAY_DATABASE_URL)`);
  }
  const occupied = [DATABASE_FILE, AUDIT_DATABASE_FILE, KEY_FINGERPRINTS_FILE].map((name) => path.join(config.dataDir, name)).filter((file) => fs.existsSync(file));
  if (occupied.length > 0) {
    throw new GatewayError('invalid_argument', `${occupied.join(', ')} already exist: a restore never writes over a gateway's state; point GATEWAY_DATA_DIR at an empty directory`);
  }
  if (config.databaseUrl !== undefined) await requireEmptyDatabase(config.databaseUrl);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const has = (name: string) => manifest.files.some((entry) => entry.name === name);
  if (config.databaseUrl === undefined) {
    for (const name of [DATABASE_FILE, AUDIT_DATABASE_FILE]) fs.copyFileSync(path.join(directory, name), path.join(config.dataDir, name));
  } else {
    await pgRun('pg_restore', ['--no-owner', '--exit-on-error', '--single-transaction', '--dbname', config.databaseUrl, path.join(directory, DUMP_FILE)], config.databaseUrl);
  }
  if (has(KEY_FINGERPRINTS_FILE)) fs.copyFileSync(path.join(directory, KEY_FINGERPRINTS_FILE), path.join(config.dataDir, KEY_FINGERPRINTS_FILE));
  const savedNote = has(CHECKPOINT_COPY) ? fs.readFileSync(path.join(directory, CHECKPOINT_COPY), 'utf8') : undefined;
  if (savedNote !== undefined) fs.writeFileSync(config.checkpointFile, savedNote, { mode: 0o600 });
  const key = loadNoteKey(config.keysDir, config.auditOrigin);
  const store = config.databaseUrl === undefined
    ? openSqliteAuditStore({ file: path.join(config.dataDir, AUDIT_DATABASE_FILE) })
    : await openPostgresAuditStore({ url: config.databaseUrl });
  try {
    const verification = await verifyLog(store, {
      verifierKey: key.verifierKey, origin: config.auditOrigin,
      savedCheckpoints: savedNote === undefined ? [] : [{ label: `the backup's checkpoint (${CHECKPOINT_COPY})`, note: savedNote }],
    });
    return { manifest, verification };
  } finally {
    await store.close();
  }
}

async function requireEmptyDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ tables: string }>(`SELECT count(*) AS tables FROM pg_tables WHERE schemaname = 'public'`);
    if (Number(rows[0]?.tables) > 0) {
      throw new GatewayError('invalid_argument', `the database ${redactUrl(url)} is not empty: restore into a new database (createdb), never over a gateway's state`);
    }
  } catch (cause) {
    if (cause instanceof GatewayError) throw cause;
    throw new GatewayError('storage_unavailable', `cannot reach the database ${redactUrl(url)} to restore into`, { cause });
  } finally {
    await client.end().catch(() => undefined);
  }
}
