/**
 * The gateway's signing keys (ES256), kept in one 0600 file in the keys directory. One key is current; rotation
 * retires it but keeps it published in the JWKS for the lifetime of what it signed, so earlier answers and
 * receipts stay verifiable. The file is replaced atomically, and a running server notices a rotation made by the
 * CLI in another process (it re-reads the file when it changes, checking at most once a second).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { GATEWAY_ALGORITHM, generateGatewaySigningKey, privateKeyFromJwk, publicJwkOf } from '../crypto/jws.js';
import type { JWK } from '../crypto/jws.js';
import { GatewayError } from '../errors/index.js';
import { writeFileAtomically } from '../store/index.js';

export const SIGNING_KEYS_FILE = 'signing-keys.json';
const RELOAD_CHECK_MS = 1000;
const DAY_MS = 86_400_000;

interface StoredSigningKey {
  readonly kid: string;
  readonly created_at: string;
  readonly retired_at: string | null;
  readonly private_jwk: JWK;
}

interface SigningKeyFile {
  readonly keys: StoredSigningKey[];
}

export interface PublishedKey extends JWK {
  readonly kid: string;
}

export interface SigningKeySet {
  /** The key new signatures are made with. */
  current(): { readonly kid: string; readonly key: KeyObject };
  /** Public keys of the current key and of retired keys whose signatures may still be valid. */
  published(now?: Date): PublishedKey[];
  /** The kid of every key in the file, current and retired. */
  kids(): string[];
  /** Every key's kid and dates, current and retired, newest first (for the operator: never key material). */
  inventory(): SigningKeyInfo[];
}

export interface SigningKeyInfo {
  readonly kid: string;
  readonly createdAt: string;
  readonly retiredAt: string | undefined;
}

function filePath(keysDir: string): string {
  return path.join(keysDir, SIGNING_KEYS_FILE);
}

function readKeyFile(keysDir: string): SigningKeyFile {
  let text: string;
  try {
    text = fs.readFileSync(filePath(keysDir), 'utf8');
  } catch (cause) {
    throw new GatewayError('key_material_missing', `${filePath(keysDir)} is missing: run \`gateway init\``, { cause });
  }
  const parsed = JSON.parse(text) as SigningKeyFile;
  if (!Array.isArray(parsed.keys) || parsed.keys.filter((key) => key.retired_at === null).length !== 1) {
    throw new GatewayError('key_material_missing', `${filePath(keysDir)} must hold exactly one current signing key`);
  }
  return parsed;
}

/** Write-then-rename, so a reader sees the old file or the new one, never half of one. */
function writeKeyFile(keysDir: string, content: SigningKeyFile): void {
  writeFileAtomically(filePath(keysDir), `${JSON.stringify(content, null, 2)}\n`);
}

async function newStoredKey(now: Date): Promise<StoredSigningKey> {
  const key = await generateGatewaySigningKey();
  return { kid: key.kid, created_at: now.toISOString(), retired_at: null, private_jwk: { ...key.privateJwk, kid: key.kid, alg: GATEWAY_ALGORITHM, use: 'sig' } };
}

/** Creates the signing key file if it is missing; returns whether it did. */
export async function ensureSigningKeys(keysDir: string, now: Date = new Date()): Promise<boolean> {
  if (fs.existsSync(filePath(keysDir))) return false;
  fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  writeKeyFile(keysDir, { keys: [await newStoredKey(now)] });
  return true;
}

export interface Rotation {
  readonly current: string;
  readonly retired: string;
}

/**
 * Makes a new key current and retires the previous one; returns both kids. `beforeWrite` runs once the new key
 * exists and before it replaces the old one (the audit entry): if it throws, nothing changes.
 */
export async function rotateSigningKey(
  keysDir: string, now: Date = new Date(), beforeWrite: (rotation: Rotation) => Promise<void> = async () => undefined,
): Promise<Rotation> {
  const file = readKeyFile(keysDir);
  const next = await newStoredKey(now);
  const previous = file.keys.find((key) => key.retired_at === null) as StoredSigningKey;
  await beforeWrite({ current: next.kid, retired: previous.kid });
  writeKeyFile(keysDir, {
    keys: [next, ...file.keys.map((key) => (key.retired_at === null ? { ...key, retired_at: now.toISOString() } : key))],
  });
  return { current: next.kid, retired: previous.kid };
}

export function openSigningKeys(keysDir: string, lifetimeDays: number): SigningKeySet {
  let loaded = load();
  let checkedAt = Date.now();

  function load() {
    const stat = fs.statSync(filePath(keysDir));
    const file = readKeyFile(keysDir);
    const current = file.keys.find((key) => key.retired_at === null) as StoredSigningKey;
    return { mtimeMs: stat.mtimeMs, size: stat.size, file, current: { kid: current.kid, key: privateKeyFromJwk(current.private_jwk) } };
  }

  function fresh() {
    if (Date.now() - checkedAt >= RELOAD_CHECK_MS) {
      checkedAt = Date.now();
      const stat = fs.statSync(filePath(keysDir));
      if (stat.mtimeMs !== loaded.mtimeMs || stat.size !== loaded.size) {
        const next = load();
        // Rotation only adds keys: a file that lost one is not this gateway's, and nothing is signed with it.
        const lost = loaded.file.keys.filter((key) => !next.file.keys.some((kept) => kept.kid === key.kid));
        if (lost.length > 0) {
          throw new GatewayError('key_mismatch', `${filePath(keysDir)} was replaced by a file without the signing key(s) ${lost.map((key) => key.kid).join(', ')}: `
            + 'restore it from your backup of the keys directory');
        }
        loaded = next;
      }
    }
    return loaded;
  }

  return {
    current: () => fresh().current,
    published(now = new Date()) {
      return fresh().file.keys
        .filter((key) => key.retired_at === null || Date.parse(key.retired_at) + lifetimeDays * DAY_MS > now.getTime())
        .map((key) => ({ ...publicJwkOf(key.private_jwk), kid: key.kid, alg: GATEWAY_ALGORITHM, use: 'sig' }));
    },
    kids: () => fresh().file.keys.map((key) => key.kid),
    inventory: () => fresh().file.keys.map((key) => ({ kid: key.kid, createdAt: key.created_at, retiredAt: key.retired_at ?? undefined })),
  };
}
