/**
 * Gateway configuration: read from the environment once at start-up, validated, and passed in. Nothing else in
 * the code reads process.env. Every setting has a documented default (docs/operations.md).
 */
import os from 'node:os';
import path from 'node:path';
import { GatewayError } from '../errors/index.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface GatewayConfig {
  /** Address the HTTP server binds to. */
  readonly host: string;
  readonly port: number;
  /** Runtime state: the database and its WAL. */
  readonly dataDir: string;
  /** Key material; private keys are written 0600 and never committed. */
  readonly keysDir: string;
  readonly logLevel: LogLevel;
  /** Worker threads that parse, validate and encrypt ingested rows. */
  readonly ingestWorkers: number;
  /** Longest record accepted, in bytes: a bound on memory for a runaway line. */
  readonly maxRecordBytes: number;
  /** Enterprises `npm start` loads as a demo population when the store is empty (0: none). */
  readonly demoEnterprises: number;
  /** How long graceful shutdown waits for in-flight requests before closing anyway. */
  readonly shutdownGraceMs: number;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Environment = Readonly<Record<string, string | undefined>>;

function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new GatewayError('invalid_configuration', `${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** The default worker count leaves the main thread (reading, committing) a core of its own where there are more. */
function defaultIngestWorkers(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

export function loadConfig(env: Environment, cwd: string = process.cwd()): GatewayConfig {
  const logLevel = (env['LOG_LEVEL'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new GatewayError('invalid_configuration', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const host = env['HOST'] ?? '127.0.0.1';
  if (host.trim() === '') throw new GatewayError('invalid_configuration', 'HOST must not be empty');
  return {
    host,
    port: integer(env, 'PORT', 8080, 0, 65535),
    dataDir: path.resolve(cwd, env['GATEWAY_DATA_DIR'] ?? 'data'),
    keysDir: path.resolve(cwd, env['GATEWAY_KEYS_DIR'] ?? 'keys'),
    logLevel,
    ingestWorkers: integer(env, 'GATEWAY_INGEST_WORKERS', defaultIngestWorkers(), 1, 64),
    maxRecordBytes: integer(env, 'GATEWAY_MAX_RECORD_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    demoEnterprises: integer(env, 'GATEWAY_DEMO_ENTERPRISES', 200, 0, 1_000_000),
    shutdownGraceMs: integer(env, 'GATEWAY_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
  };
}
