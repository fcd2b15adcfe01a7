/**
 * Which keys a data directory was used with: a fingerprint of each key the stored data depends on, recorded in the
 * data directory (`key-fingerprints.json`, 0600) when the directory is first used and checked at every start, so a
 * key that was lost and regenerated, or swapped for another deployment's, stops the gateway instead of making it sign
 * `unknown` for every subject (a new blind-index key), fail to unwrap data keys (a new KEK) or sign checkpoints no
 * auditor can verify (a new note key).
 *
 * A fingerprint never reveals its key: secrets are fingerprinted by an HMAC under the secret itself, public keys by
 * their public form. Signing keys are a set that rotation grows: every recorded kid must still be in the file.
 */
import { createHmac, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sha256Hex } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';
import { writeFileAtomically } from '../store/index.js';

export const KEY_FINGERPRINTS_FILE = 'key-fingerprints.json';
const FINGERPRINT_LABEL = 'credit-gateway key fingerprint v1';

/** The keys a data directory depends on, by the file in the keys directory that holds each. */
export interface KeyFingerprints {
  readonly 'data-kek.key': string;
  readonly 'blind-index.key': string;
  readonly 'ca.cert.pem': string;
  readonly 'audit-note-key.json': string;
  /** The kids of every signing key, current and retired. */
  readonly 'signing-keys.json': readonly string[];
}

export interface KeyMaterial {
  readonly kek: Uint8Array;
  readonly blindIndex: Uint8Array;
  readonly caCertificatePem: string;
  readonly noteVerifierKey: string;
  readonly signingKids: readonly string[];
}

function secretFingerprint(secret: Uint8Array): string {
  return createHmac('sha256', secret).update(FINGERPRINT_LABEL).digest('hex');
}

export function fingerprintKeys(material: KeyMaterial): KeyFingerprints {
  return {
    'data-kek.key': secretFingerprint(material.kek),
    'blind-index.key': secretFingerprint(material.blindIndex),
    'ca.cert.pem': new X509Certificate(material.caCertificatePem).fingerprint256.replaceAll(':', '').toLowerCase(),
    'audit-note-key.json': sha256Hex(material.noteVerifierKey),
    'signing-keys.json': [...material.signingKids].sort(),
  };
}

function fingerprintFile(dataDir: string): string {
  return path.join(dataDir, KEY_FINGERPRINTS_FILE);
}

/** The recorded fingerprints, or undefined when the data directory has none yet. */
export function readKeyFingerprints(dataDir: string): KeyFingerprints | undefined {
  const file = fingerprintFile(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GatewayError('key_mismatch', `${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  return parseKeyFingerprints(text, file, 'restore it from the backup of the data directory');
}

/** Fingerprints as recorded (`{ keys: … }`) in `where`; a damaged record is key_mismatch, saying `remedy`. */
export function parseKeyFingerprints(text: string, where: string, remedy: string): KeyFingerprints {
  const file = where;
  let parsed: { keys?: Partial<Record<keyof KeyFingerprints, unknown>> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (cause) {
    throw new GatewayError('key_mismatch', `${file} is not JSON: ${remedy}`, { cause });
  }
  const keys = parsed.keys ?? {};
  const text64 = (name: keyof KeyFingerprints) => {
    const value = keys[name];
    if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
      throw new GatewayError('key_mismatch', `${file} has no fingerprint for ${name}: ${remedy}`);
    }
    return value;
  };
  const kids = keys['signing-keys.json'];
  if (!Array.isArray(kids) || kids.length === 0 || !kids.every((kid) => typeof kid === 'string')) {
    throw new GatewayError('key_mismatch', `${file} has no signing key ids: ${remedy}`);
  }
  return {
    'data-kek.key': text64('data-kek.key'),
    'blind-index.key': text64('blind-index.key'),
    'ca.cert.pem': text64('ca.cert.pem'),
    'audit-note-key.json': text64('audit-note-key.json'),
    'signing-keys.json': kids as string[],
  };
}

/** The record's JSON: `{ recorded_at, keys }`. */
export function keyFingerprintsJson(fingerprints: KeyFingerprints, now: Date = new Date()): string {
  return `${JSON.stringify({ recorded_at: now.toISOString(), keys: fingerprints }, null, 2)}\n`;
}

export function writeKeyFingerprints(dataDir: string, fingerprints: KeyFingerprints, now: Date = new Date()): void {
  writeFileAtomically(fingerprintFile(dataDir), keyFingerprintsJson(fingerprints, now));
}

/**
 * Throws key_mismatch naming the first key file that is not the one recorded: a different secret or public key, or a
 * signing key file that lost a recorded kid.
 */
export function checkKeyFingerprints(dataDir: string, keysDir: string, recorded: KeyFingerprints, actual: KeyFingerprints): void {
  compareKeyFingerprints(keysDir, recorded, actual, (name, what) =>
    `${path.join(keysDir, name)} is not the ${what} this data directory (${dataDir}) was used with: restore the original `
    + `file from your backup of the keys directory (its fingerprint is recorded in ${fingerprintFile(dataDir)})`);
}

/** The same check against the record a database keeps (Store.recordKeyFingerprints), which all its instances share. */
export function checkDatabaseKeyFingerprints(location: string, keysDir: string, recorded: KeyFingerprints, actual: KeyFingerprints): void {
  compareKeyFingerprints(keysDir, recorded, actual, (name, what) =>
    `${path.join(keysDir, name)} is not the ${what} the database ${location} was first used with (its fingerprint is `
    + 'recorded in the database): every gateway on one database must hold the same keys; copy the keys directory of the '
    + 'instances already serving it, or restore it from your backup');
}

function compareKeyFingerprints(keysDir: string, recorded: KeyFingerprints, actual: KeyFingerprints,
  message: (name: keyof KeyFingerprints, what: string) => string): void {
  const mismatch = (name: keyof KeyFingerprints, what: string) => new GatewayError('key_mismatch', message(name, what),
    { details: { key_file: path.join(keysDir, name) } });
  if (recorded['blind-index.key'] !== actual['blind-index.key']) throw mismatch('blind-index.key', 'blind-index key');
  if (recorded['data-kek.key'] !== actual['data-kek.key']) throw mismatch('data-kek.key', 'data key-encryption key');
  if (recorded['audit-note-key.json'] !== actual['audit-note-key.json']) throw mismatch('audit-note-key.json', 'audit checkpoint key');
  if (recorded['ca.cert.pem'] !== actual['ca.cert.pem']) throw mismatch('ca.cert.pem', 'platform CA');
  const missing = recorded['signing-keys.json'].filter((kid) => !actual['signing-keys.json'].includes(kid));
  if (missing.length > 0) throw mismatch('signing-keys.json', `signing key set (it lacks ${missing.join(', ')})`);
}

/** After a rotation: the new signing key joins the record (a crash before this is made good at the next start). */
export function recordSigningKids(dataDir: string, kids: readonly string[]): void {
  const recorded = readKeyFingerprints(dataDir);
  if (recorded === undefined) return;
  const all = [...new Set([...recorded['signing-keys.json'], ...kids])].sort();
  writeKeyFingerprints(dataDir, { ...recorded, 'signing-keys.json': all });
}
