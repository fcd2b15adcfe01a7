/**
 * Gateway configuration: read from the environment once at start-up, validated, and passed in. Nothing else in
 * the code reads process.env. Every setting has a documented default (docs/operations.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCosignatureVerifierKey } from '../crypto/note.js';
import { CRYPTO_PROFILES, isCryptoProfileName } from '../crypto/profile.js';
import type { CryptoProfileName } from '../crypto/profile.js';
import { GatewayError } from '../errors/index.js';
import { parseAllowedNetworks } from '../identity/webhookTarget.js';
import type { AllowedNetworks } from '../identity/webhookTarget.js';
import { packageRoot } from '../paths.js';
import type { Purpose } from '../policies/definition.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface GatewayConfig {
  /** Address the HTTP server binds to. */
  readonly host: string;
  readonly port: number;
  /** Runtime state: the database and its WAL. */
  readonly dataDir: string;
  /**
   * GATEWAY_DATABASE_URL: a PostgreSQL database (postgres://…) that several gateway instances share; unset, the
   * embedded SQLite files in the data directory.
   */
  readonly databaseUrl: string | undefined;
  /** Key material; private keys are written 0600 and never committed. */
  readonly keysDir: string;
  /**
   * GATEWAY_CRYPTO_PROFILE: `standard` or `gm` (国密), the profile new keys are made for (docs/crypto-profiles.md).
   * Unset, a keys directory keeps the profile it was made with, and a new one is `standard`.
   */
  readonly cryptoProfile: CryptoProfileName | undefined;
  readonly logLevel: LogLevel;
  /** Worker threads that parse, validate and encrypt ingested rows. */
  readonly ingestWorkers: number;
  /** Longest record accepted, in bytes: a bound on memory for a runaway line. */
  readonly maxRecordBytes: number;
  /** Enterprises `npm start` loads as a demo population when the store is empty (0: none). */
  readonly demoEnterprises: number;
  /** How long graceful shutdown waits for in-flight requests before closing anyway. */
  readonly shutdownGraceMs: number;
  /** The gateway's name: the audience of signed requests and the issuer of what the gateway signs. */
  readonly gatewayId: string;
  /** Clock difference tolerated between a participant and the gateway, in seconds. */
  readonly clockSkewSeconds: number;
  /** Largest request body accepted (an ingested batch travels in one body). */
  readonly maxBodyBytes: number;
  /** How long what the gateway signs stays valid; a retired signing key stays published this long. */
  readonly signatureLifetimeDays: number;
  readonly tls: TlsConfig | undefined;
  /** The audit log's origin (first line of its checkpoints, name of its note key). */
  readonly auditOrigin: string;
  /** How often a checkpoint is made while entries arrive. */
  readonly checkpointIntervalMs: number;
  /** Where the latest signed checkpoint is kept outside the database (default: beside it in the data directory). */
  readonly checkpointFile: string;
  /** A witness's copy of a checkpoint the log must extend at start (read only), if the operator keeps one. */
  readonly witnessCheckpointFile: string | undefined;
  /** C2SP witnesses each new checkpoint is submitted to. */
  readonly witnesses: readonly WitnessConfig[];
  /** Questions a bank may have answered per second (all its requests together). */
  readonly bankQuestionsPerSecond: number;
  /** Questions per consent per minute. */
  readonly consentQuestionsPerMinute: number;
  /** Items a bank may have refused per minute (a much lower budget than its questions: refusals are noise in the log). */
  readonly bankRefusalsPerMinute: number;
  /** Seconds within which the same question about the same subject under the same consent gets the same answer. */
  readonly answerReuseSeconds: number;
  /** The longest a consent may last, in days, per lending purpose. */
  readonly consentMaxDays: Readonly<Record<ConsentPurpose, number>>;
  /** Serve plain HTTP on a non-loopback address anyway (behind a TLS-terminating proxy). */
  readonly allowPlaintext: boolean;
  /** Free space on the data directory's disk below which /readyz answers not ready (writes would fail). */
  readonly minFreeBytes: number;
  /** Start with key files others can read, or a keys directory others can write, warning instead of refusing. */
  readonly allowUnsafeKeyPermissions: boolean;
  /** Webhook delivery of monitoring events (docs/monitoring.md). */
  readonly alertDelivery: AlertDeliveryConfig;
  /**
   * Networks a webhook may point to besides public unicast addresses (GATEWAY_WEBHOOK_ALLOWED_NETWORKS: CIDRs, comma
   * separated); loopback, private and link-local ones are refused unless named here, and http is allowed only to them.
   */
  readonly webhookAllowedNetworks: AllowedNetworks;
  /** Credit reports (docs/reports.md). */
  readonly reports: ReportConfig;
  /** Days a source has to resolve an objection before it is flagged overdue (docs/objections.md). */
  readonly objectionDeadlineDays: number;
  /** Support-policy counts below this are suppressed (docs/support.md). */
  readonly supportMinCell: number;
  /** Misuse detection over the audit log (docs/misuse.md). */
  readonly misuse: MisuseConfig;
  /** The national credit-information platform's uplink (docs/uplink.md); undefined while GATEWAY_UPLINK_URL is unset. */
  readonly uplink: UplinkConfig | undefined;
  /** The retention schedule (docs/retention.md). */
  readonly retention: RetentionConfig;
}

export interface RetentionConfig {
  /** The schedule file (GATEWAY_RETENTION_POLICY, default policies/retention.json). */
  readonly policyFile: string;
}

export interface UplinkConfig {
  /** The platform's endpoint manifests are POSTed to (http only to a network GATEWAY_WEBHOOK_ALLOWED_NETWORKS allows). */
  readonly url: string;
  /** The platform's public key (a JWK file): manifests are encrypted to it. */
  readonly encryptionKeyFile: string;
  /** The JWK or JWKS file the platform's receipts are verified with. */
  readonly receiptKeyFile: string;
  /** Delivery as for alerts: retry horizon, capped exponential backoff with jitter, per-attempt timeout, polling. */
  readonly retryHorizonMs: number;
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** Manifests in flight at once. */
  readonly concurrency: number;
}

/** GATEWAY_UPLINK_*: all of URL and both keys, or none of them (the uplink is off). */
function uplinkConfig(env: Environment, cwd: string): UplinkConfig | undefined {
  const url = env['GATEWAY_UPLINK_URL'];
  const encryptionKey = env['GATEWAY_UPLINK_KEY'];
  const receiptKey = env['GATEWAY_UPLINK_RECEIPT_KEY'];
  if (url === undefined || url === '') {
    if (encryptionKey || receiptKey) throw new GatewayError('invalid_configuration', 'GATEWAY_UPLINK_KEY and GATEWAY_UPLINK_RECEIPT_KEY need GATEWAY_UPLINK_URL');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GatewayError('invalid_configuration', `GATEWAY_UPLINK_URL must be an http(s) URL, got "${url.slice(0, 80)}"`);
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password) {
    throw new GatewayError('invalid_configuration', 'GATEWAY_UPLINK_URL must be an http(s) URL without credentials');
  }
  if (!encryptionKey || !receiptKey) {
    throw new GatewayError('invalid_configuration', 'GATEWAY_UPLINK_URL needs GATEWAY_UPLINK_KEY (the platform\'s encryption JWK) and GATEWAY_UPLINK_RECEIPT_KEY (its receipt JWK or JWKS)');
  }
  return {
    url,
    encryptionKeyFile: path.resolve(cwd, encryptionKey),
    receiptKeyFile: path.resolve(cwd, receiptKey),
    retryHorizonMs: integer(env, 'GATEWAY_UPLINK_RETRY_HORIZON_SECONDS', 7 * 86_400, 1, 90 * 86_400) * 1000,
    baseBackoffMs: integer(env, 'GATEWAY_UPLINK_RETRY_BASE_MS', 1000, 1, 3_600_000),
    maxBackoffMs: integer(env, 'GATEWAY_UPLINK_RETRY_MAX_MS', 3_600_000, 1, 86_400_000),
    timeoutMs: integer(env, 'GATEWAY_UPLINK_TIMEOUT_MS', 30_000, 100, 300_000),
    pollMs: integer(env, 'GATEWAY_UPLINK_POLL_MS', 1000, 10, 60_000),
    concurrency: integer(env, 'GATEWAY_UPLINK_CONCURRENCY', 4, 1, 64),
  };
}

export interface MisuseConfig {
  /** The rules file (default policies/misuse.json). */
  readonly policyFile: string;
  /** GATEWAY_MISUSE_WEBHOOK_URL: where each new flag is also POSTed, signed; unset, flags go to the log only. */
  readonly webhookUrl: string | undefined;
  /** Whether a flag by a rule that says `suspend` suspends the bank (off unless the operator enables it). */
  readonly autoSuspend: boolean;
  /** How often the serving process scans. */
  readonly scanIntervalMs: number;
}

export interface ReportConfig {
  /** The CJK font the PDF is set in: a TrueType/OpenType font or collection. */
  readonly fontFile: string;
  /** The face to use when the font file is a collection (.ttc). */
  readonly fontName: string;
  /** The gateway's address as people reach it (printed and QR-coded on reports); default: the address a request came to. */
  readonly publicUrl: string | undefined;
}

/** Debian's fonts-wqy-zenhei (文泉驿正黑), which .ci/run installs. */
export const DEFAULT_REPORT_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc';

function publicUrl(env: Environment): string | undefined {
  const raw = env['GATEWAY_PUBLIC_URL'];
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatewayError('invalid_configuration', `GATEWAY_PUBLIC_URL must be an http(s) URL, got "${raw.slice(0, 80)}"`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new GatewayError('invalid_configuration', 'GATEWAY_PUBLIC_URL must be an http(s) URL without query or fragment');
  }
  return url.toString().replace(/\/$/, '');
}

export interface AlertDeliveryConfig {
  /** How long an event is retried, from its creation (or replay), before it is dead-lettered. */
  readonly retryHorizonMs: number;
  /** The first retry's delay; each later one doubles, up to maxBackoffMs, with full jitter. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** How long one delivery may take before it counts as failed. */
  readonly timeoutMs: number;
  /** How often the outbox is looked at for due events (new events also wake the worker at once). */
  readonly pollMs: number;
  /** Deliveries in flight per bank; banks never wait for each other. */
  readonly concurrencyPerBank: number;
}

/** The lending stages a consent is for (one list, in policies/definition.ts). */
export type ConsentPurpose = Purpose;

/**
 * Defaults (docs/consent.md): screening a list of applicants is a moment, not a relationship (30 days); a pre-loan
 * investigation takes weeks (90); approval may wait on committees and collateral-free credit lines are reviewed
 * yearly (180); post-loan monitoring lasts the loan, and SME credit lines here run up to three years (1,095).
 */
export const DEFAULT_CONSENT_MAX_DAYS: Readonly<Record<ConsentPurpose, number>> = {
  customer_screening: 30,
  pre_loan_investigation: 90,
  loan_approval: 180,
  post_loan_management: 1095,
};

function consentMaxDays(env: Environment): Record<ConsentPurpose, number> {
  const days = { ...DEFAULT_CONSENT_MAX_DAYS };
  const raw = env['GATEWAY_CONSENT_MAX_DAYS'];
  if (raw === undefined || raw.trim() === '') return days;
  for (const item of raw.split(',')) {
    const [purpose, value] = item.trim().split('=');
    if (!purpose || !(purpose in days) || !value || !/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 3650) {
      throw new GatewayError('invalid_configuration', `GATEWAY_CONSENT_MAX_DAYS must be <purpose>=<1-3650 days> pairs separated by commas, e.g. customer_screening=30`);
    }
    days[purpose as ConsentPurpose] = Number(value);
  }
  return days;
}

export interface WitnessConfig {
  /** Base URL; the gateway POSTs to <url>/add-checkpoint. */
  readonly url: string;
  /** The witness's C2SP verifier key (`<name>+<key id>+<base64 key>`). */
  readonly verifierKey: string;
}

export interface TlsConfig {
  readonly certFile: string;
  readonly keyFile: string;
  /** `require`: mutual TLS with a certificate from the platform CA; `off`: server authentication only. */
  readonly clientCertificates: 'require' | 'off';
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

function flag(env: Environment, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new GatewayError('invalid_configuration', `${name} must be 1/true or 0/false, got "${raw}"`);
}

function tlsConfig(env: Environment, cwd: string): TlsConfig | undefined {
  const cert = env['GATEWAY_TLS_CERT'];
  const key = env['GATEWAY_TLS_KEY'];
  const clientCertificates = env['GATEWAY_TLS_CLIENT_CERTS'] ?? 'off';
  if (clientCertificates !== 'off' && clientCertificates !== 'require') {
    throw new GatewayError('invalid_configuration', `GATEWAY_TLS_CLIENT_CERTS must be "off" or "require", got "${clientCertificates}"`);
  }
  if (!cert && !key) {
    if (clientCertificates === 'require') throw new GatewayError('invalid_configuration', 'GATEWAY_TLS_CLIENT_CERTS=require needs GATEWAY_TLS_CERT and GATEWAY_TLS_KEY');
    return undefined;
  }
  if (!cert || !key) throw new GatewayError('invalid_configuration', 'GATEWAY_TLS_CERT and GATEWAY_TLS_KEY must be set together');
  return { certFile: path.resolve(cwd, cert), keyFile: path.resolve(cwd, key), clientCertificates };
}

/** "<url> <verifier key>" pairs separated by commas. */
function witnesses(env: Environment): WitnessConfig[] {
  const raw = env['GATEWAY_AUDIT_WITNESSES'];
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((item) => {
    const [url, verifierKey, ...rest] = item.trim().split(/\s+/);
    if (!url || !verifierKey || rest.length > 0 || !/^https?:\/\/[^\s]+$/.test(url)) {
      throw new GatewayError('invalid_configuration', 'GATEWAY_AUDIT_WITNESSES must be "<http(s) url> <verifier key>" pairs separated by commas');
    }
    try {
      parseCosignatureVerifierKey(verifierKey);
    } catch {
      throw new GatewayError('invalid_configuration', `GATEWAY_AUDIT_WITNESSES: "${verifierKey.slice(0, 80)}" is not a C2SP cosignature verifier key (type 0x04)`);
    }
    return { url: url.replace(/\/+$/, ''), verifierKey };
  });
}

/** The latest signed checkpoint's file, beside the audit database unless GATEWAY_AUDIT_CHECKPOINT_FILE says otherwise. */
export const DEFAULT_CHECKPOINT_FILE = 'audit-checkpoint.txt';

function packageName(directory: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(directory, 'package.json'), 'utf8')) as { name?: unknown }).name as string | undefined;
  } catch {
    return undefined;
  }
}

/**
 * The gateway's project directory that `cwd` is in: the nearest directory at or above it whose package.json is this
 * package's. Its keys/ and data/ are the default home, so that a command run from docs/ or test/ finds the gateway
 * rather than quietly making a second, empty one where it stands.
 */
export function findProjectRoot(cwd: string): string | undefined {
  const name = packageName(packageRoot);
  for (let directory = path.resolve(cwd); ; directory = path.dirname(directory)) {
    if (name !== undefined && packageName(directory) === name) return directory;
    if (path.dirname(directory) === directory) return undefined;
  }
}

function cryptoProfileSetting(value: string | undefined): CryptoProfileName | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isCryptoProfileName(value)) throw new GatewayError('invalid_configuration', `GATEWAY_CRYPTO_PROFILE must be one of ${CRYPTO_PROFILES.join(', ')}`);
  return value;
}

/** GATEWAY_DATA_DIR and GATEWAY_KEYS_DIR, or the project directory's data/ and keys/ for what they leave unset. */
function gatewayHome(env: Environment, cwd: string): { dataDir: string; keysDir: string } {
  const dataDir = env['GATEWAY_DATA_DIR'];
  const keysDir = env['GATEWAY_KEYS_DIR'];
  if (dataDir && keysDir) return { dataDir: path.resolve(cwd, dataDir), keysDir: path.resolve(cwd, keysDir) };
  const root = findProjectRoot(cwd);
  if (root === undefined) {
    const unset = [dataDir ? undefined : 'GATEWAY_DATA_DIR', keysDir ? undefined : 'GATEWAY_KEYS_DIR'].filter(Boolean).join(' and ');
    throw new GatewayError('invalid_configuration',
      `cannot tell where the gateway's home is: ${cwd} is not inside its project directory; run the command from there, or set ${unset}`);
  }
  return {
    dataDir: dataDir ? path.resolve(cwd, dataDir) : path.join(root, 'data'),
    keysDir: keysDir ? path.resolve(cwd, keysDir) : path.join(root, 'keys'),
  };
}

/** An http(s) URL, checked as a URL here; its host is resolved and checked against the allowed networks when used. */
function webhookUrl(raw: string | undefined, name: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatewayError('invalid_configuration', `${name} must be an https:// URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new GatewayError('invalid_configuration', `${name} must be an https:// URL, not ${url.protocol}//`);
  return raw;
}

/** postgres:// or postgresql:// with a host and a database; the password may be in it or in PGPASSWORD. */
function databaseUrl(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatewayError('invalid_configuration', 'GATEWAY_DATABASE_URL must be a URL such as postgres://gateway@127.0.0.1:5432/gateway');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new GatewayError('invalid_configuration', `GATEWAY_DATABASE_URL must be a postgres:// URL (SQLite, the default, needs none), not ${url.protocol}//`);
  }
  if (url.pathname.length <= 1) throw new GatewayError('invalid_configuration', 'GATEWAY_DATABASE_URL must name the database (postgres://host/<database>)');
  return raw;
}

const AUDIT_ORIGIN = /^[^\s+\u0000-\u001f]{1,200}$/;

const GATEWAY_ID = /^[A-Za-z0-9][A-Za-z0-9.:/_-]{0,199}$/;

export function loadConfig(env: Environment, cwd: string = process.cwd()): GatewayConfig {
  const logLevel = (env['LOG_LEVEL'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new GatewayError('invalid_configuration', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const host = env['HOST'] ?? '127.0.0.1';
  if (host.trim() === '') throw new GatewayError('invalid_configuration', 'HOST must not be empty');
  const gatewayId = env['GATEWAY_ID'] ?? 'urn:credit-gateway:local';
  const auditOrigin = env['GATEWAY_AUDIT_ORIGIN'] ?? 'credit-gateway.local/audit';
  if (!AUDIT_ORIGIN.test(auditOrigin)) {
    throw new GatewayError('invalid_configuration', 'GATEWAY_AUDIT_ORIGIN must be 1-200 characters without spaces, "+" or control characters');
  }
  if (!GATEWAY_ID.test(gatewayId)) {
    throw new GatewayError('invalid_configuration', 'GATEWAY_ID must be 1-200 characters of letters, digits and .:/_-');
  }
  const { dataDir, keysDir } = gatewayHome(env, cwd);
  const witnessCheckpoint = env['GATEWAY_AUDIT_WITNESS_CHECKPOINT'];
  return {
    host,
    port: integer(env, 'PORT', 8080, 0, 65535),
    dataDir,
    databaseUrl: databaseUrl(env['GATEWAY_DATABASE_URL']),
    keysDir,
    cryptoProfile: cryptoProfileSetting(env['GATEWAY_CRYPTO_PROFILE']),
    logLevel,
    ingestWorkers: integer(env, 'GATEWAY_INGEST_WORKERS', defaultIngestWorkers(), 1, 64),
    maxRecordBytes: integer(env, 'GATEWAY_MAX_RECORD_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    demoEnterprises: integer(env, 'GATEWAY_DEMO_ENTERPRISES', 200, 0, 1_000_000),
    shutdownGraceMs: integer(env, 'GATEWAY_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    gatewayId,
    clockSkewSeconds: integer(env, 'GATEWAY_CLOCK_SKEW_SECONDS', 60, 0, 300),
    maxBodyBytes: integer(env, 'GATEWAY_MAX_BODY_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    signatureLifetimeDays: integer(env, 'GATEWAY_SIGNATURE_LIFETIME_DAYS', 400, 1, 3650),
    tls: tlsConfig(env, cwd),
    auditOrigin,
    checkpointIntervalMs: integer(env, 'GATEWAY_CHECKPOINT_INTERVAL_MS', 2000, 100, 3_600_000),
    checkpointFile: path.resolve(cwd, env['GATEWAY_AUDIT_CHECKPOINT_FILE'] || path.join(dataDir, DEFAULT_CHECKPOINT_FILE)),
    witnessCheckpointFile: witnessCheckpoint ? path.resolve(cwd, witnessCheckpoint) : undefined,
    witnesses: witnesses(env),
    consentMaxDays: consentMaxDays(env),
    bankQuestionsPerSecond: integer(env, 'GATEWAY_BANK_QUESTIONS_PER_SECOND', 50_000, 1, 10_000_000),
    consentQuestionsPerMinute: integer(env, 'GATEWAY_CONSENT_QUESTIONS_PER_MINUTE', 600, 1, 1_000_000),
    bankRefusalsPerMinute: integer(env, 'GATEWAY_BANK_REFUSALS_PER_MINUTE', 600, 1, 1_000_000),
    answerReuseSeconds: integer(env, 'GATEWAY_ANSWER_REUSE_SECONDS', 86_400, 0, 30 * 86_400),
    allowPlaintext: flag(env, 'GATEWAY_ALLOW_PLAINTEXT'),
    allowUnsafeKeyPermissions: flag(env, 'GATEWAY_ALLOW_UNSAFE_KEY_PERMISSIONS'),
    webhookAllowedNetworks: parseAllowedNetworks(env['GATEWAY_WEBHOOK_ALLOWED_NETWORKS']),
    minFreeBytes: integer(env, 'GATEWAY_MIN_FREE_MB', 64, 0, 1_000_000) * 1024 * 1024,
    alertDelivery: {
      retryHorizonMs: integer(env, 'GATEWAY_ALERT_RETRY_HORIZON_SECONDS', 3 * 86_400, 1, 30 * 86_400) * 1000,
      baseBackoffMs: integer(env, 'GATEWAY_ALERT_RETRY_BASE_MS', 1000, 1, 3_600_000),
      maxBackoffMs: integer(env, 'GATEWAY_ALERT_RETRY_MAX_MS', 3_600_000, 1, 86_400_000),
      timeoutMs: integer(env, 'GATEWAY_ALERT_DELIVERY_TIMEOUT_MS', 10_000, 100, 120_000),
      pollMs: integer(env, 'GATEWAY_ALERT_POLL_MS', 1000, 10, 60_000),
      concurrencyPerBank: integer(env, 'GATEWAY_ALERT_CONCURRENCY_PER_BANK', 16, 1, 256),
    },
    reports: {
      fontFile: path.resolve(cwd, env['GATEWAY_REPORT_FONT'] ?? DEFAULT_REPORT_FONT),
      fontName: env['GATEWAY_REPORT_FONT_NAME'] ?? 'WenQuanYiZenHei',
      publicUrl: publicUrl(env),
    },
    objectionDeadlineDays: integer(env, 'GATEWAY_OBJECTION_DEADLINE_DAYS', 20, 1, 365),
    supportMinCell: integer(env, 'GATEWAY_SUPPORT_MIN_CELL', 10, 1, 1000),
    misuse: {
      policyFile: path.resolve(cwd, env['GATEWAY_MISUSE_POLICY'] ?? path.join(packageRoot, 'policies', 'misuse.json')),
      autoSuspend: flag(env, 'GATEWAY_MISUSE_AUTO_SUSPEND'),
      webhookUrl: webhookUrl(env['GATEWAY_MISUSE_WEBHOOK_URL'], 'GATEWAY_MISUSE_WEBHOOK_URL'),
      scanIntervalMs: integer(env, 'GATEWAY_MISUSE_SCAN_SECONDS', 300, 1, 86_400) * 1000,
    },
    uplink: uplinkConfig(env, cwd),
    retention: {
      policyFile: path.resolve(cwd, env['GATEWAY_RETENTION_POLICY'] ?? path.join(packageRoot, 'policies', 'retention.json')),
    },
  };
}
