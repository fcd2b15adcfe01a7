/**
 * The keys the gateway starts with, vouched for: each present, private (keyPermissionProblems), and — once the data
 * directory holds anything — the very key the data directory was used with (its fingerprint, recorded at first use).
 * Nothing here creates a key: a missing key is an error that names the file and says what to do, because a new key
 * would silently break what the old one protects.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../config/index.js';
import { GatewayError } from '../errors/index.js';
import { CA_FILES, loadAuthorityCertificate } from '../identity/authority.js';
import {
  checkDatabaseKeyFingerprints, checkKeyFingerprints, checkKeyPermissions, fingerprintKeys, keyFingerprintsJson, loadNoteKey, loadSecrets, NOTE_KEY_FILE,
  openSigningKeys, parseKeyFingerprints, readKeyFingerprints, SECRET_FILES, SIGNING_KEYS_FILE, writeKeyFingerprints,
} from '../keys/index.js';
import type { KeyFingerprints, NoteKey, PermissionProblem, Secrets, SigningKeySet } from '../keys/index.js';
import type { Store } from '../store/index.js';

export interface VouchedKeys {
  /** The fingerprints of these keys, for the database's own record (checkDatabaseKeys). */
  readonly fingerprints: KeyFingerprints;
  readonly secrets: Secrets;
  readonly caCertificatePem: string;
  readonly signingKeys: SigningKeySet;
  readonly noteKey: NoteKey;
}

/** What losing each key breaks: the reason a new one is not made in its place. */
const WHAT_DEPENDS: Readonly<Record<string, string>> = {
  [SECRET_FILES.kek]: 'the stored data keys are wrapped with it: without it no record can be decrypted',
  [SECRET_FILES.blindIndex]: 'every stored record is found by it: with a new one every lookup would miss and answers would be "unknown"',
  [CA_FILES.key]: 'every participant certificate was issued by it',
  [CA_FILES.certificate]: 'every participant certificate is checked against it',
  [SIGNING_KEYS_FILE]: 'everything the gateway signed is verified with these keys',
  [NOTE_KEY_FILE]: 'the audit log\'s signed checkpoints are verified with it: with a new one the existing log would no longer verify',
};

/** The private files among the keys, whose modes are checked. */
const PRIVATE_FILES = [SECRET_FILES.kek, SECRET_FILES.blindIndex, CA_FILES.key, SIGNING_KEYS_FILE, NOTE_KEY_FILE] as const;

function checkPresent(config: GatewayConfig, fresh: boolean): void {
  for (const file of Object.keys(WHAT_DEPENDS)) {
    const full = path.join(config.keysDir, file);
    if (fs.existsSync(full)) continue;
    if (fresh) throw new GatewayError('key_material_missing', `${full} is missing: run \`gateway init\` to create the keys`, { details: { key_file: full } });
    throw new GatewayError('key_material_missing',
      `${full} is missing, but the data directory ${config.dataDir} was used with it (${WHAT_DEPENDS[file]}). `
      + 'Restore it from your backup of the keys directory (or point GATEWAY_KEYS_DIR at the right one); no new key is created in its place',
      { details: { key_file: full } });
  }
}

/**
 * Loads the keys after checking them. On a fresh data directory (or one from before fingerprints were recorded) the
 * fingerprints of the keys found are recorded; afterwards every start compares against them.
 */
export function openVouchedKeys(config: GatewayConfig, fresh: boolean, warn: (message: string) => void): VouchedKeys {
  const privateFiles = PRIVATE_FILES.map((file) => path.join(config.keysDir, file));
  if (config.tls) privateFiles.push(config.tls.keyFile);
  checkKeyPermissions(config.keysDir, privateFiles, config.allowUnsafeKeyPermissions, (problem: PermissionProblem) =>
    warn(`${problem.file} has mode ${problem.mode}: others can read or replace key material (${problem.remedy}); allowed by GATEWAY_ALLOW_UNSAFE_KEY_PERMISSIONS`));
  checkPresent(config, fresh);
  const secrets = loadSecrets(config.keysDir, config.cryptoProfile);
  // The CA's private key is not read here: a serving process never loads it (loadAuthority checks the pair when issuing).
  const caCertificatePem = loadAuthorityCertificate(config.keysDir);
  const noteKey = loadNoteKey(config.keysDir, config.auditOrigin);
  const signingKeys = openSigningKeys(config.keysDir, config.signatureLifetimeDays);
  const actual = fingerprintKeys({
    kek: secrets.kek.secret, blindIndex: secrets.blindIndex.secret, caCertificatePem, noteVerifierKey: noteKey.verifierKey, signingKids: signingKeys.kids(),
  });
  const recorded = readKeyFingerprints(config.dataDir);
  if (recorded === undefined) {
    if (!fresh) warn(`${config.dataDir} had no record of its keys: the fingerprints of the keys in ${config.keysDir} are recorded now`);
    writeKeyFingerprints(config.dataDir, actual);
  } else {
    checkKeyFingerprints(config.dataDir, config.keysDir, recorded, actual);
    // A rotation adds signing keys; they join the record.
    if (actual['signing-keys.json'].length !== recorded['signing-keys.json'].length) writeKeyFingerprints(config.dataDir, actual);
  }
  return { fingerprints: actual, secrets, caCertificatePem, signingKeys, noteKey };
}

/**
 * The database's own record of its keys, for every process that opens it: the first one's keys are recorded, and a
 * process with other keys is refused, whatever its data directory recorded (instances each have their own).
 */
export async function checkDatabaseKeys(store: Pick<Store, 'recordKeyFingerprints' | 'engine'>, keysDir: string, actual: KeyFingerprints): Promise<void> {
  const stored = await store.recordKeyFingerprints(keyFingerprintsJson(actual), new Date().toISOString());
  const recorded = parseKeyFingerprints(stored, `the key fingerprints in ${store.engine.location}`, 'restore the database from its backup');
  checkDatabaseKeyFingerprints(store.engine.location, keysDir, recorded, actual);
}
