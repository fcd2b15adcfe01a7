/**
 * Symmetric secrets kept in the keys directory: the key-encryption key that wraps data keys, and the blind-index
 * key. Created once (mode 0600, never overwritten), read at start-up, never logged.
 *
 * Beside them, `crypto-profile` names the crypto profile (gateway/crypto/profile.ts) the keys were made for. It is
 * written with them and never changed: the KEK's cipher and the blind indexes' hash follow it, so a deployment cannot drift into another profile. A keys directory from before profiles has none and is
 * `standard`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cryptoProfile, isCryptoProfileName, newSecret } from '../crypto/index.js';
import type { BlindIndexKey, CipherKey, CryptoProfile, CryptoProfileName } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';

export const SECRET_FILES = {
  kek: 'data-kek.key',
  blindIndex: 'blind-index.key',
} as const;

export const CRYPTO_PROFILE_FILE = 'crypto-profile';

export interface Secrets {
  readonly profile: CryptoProfile;
  readonly kek: CipherKey;
  readonly blindIndex: BlindIndexKey;
}

/** The blind-index key is an HMAC key of 32 bytes under either hash. */
const BLIND_INDEX_BYTES = 32;

/**
 * Creates the secret files that are missing; returns the names of those it created. Keys are made for `requested`
 * (or `standard`) in a new directory; one that holds keys keeps its profile, and a request for another is refused:
 * keys are never made for one profile into a directory kept for another.
 */
export function ensureSecrets(keysDir: string, requested?: CryptoProfileName): string[] {
  fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  const write = (file: string, text: string) => {
    try {
      fs.writeFileSync(path.join(keysDir, file), text, { mode: 0o600, flag: 'wx' });
      created.push(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  };
  const used = [CRYPTO_PROFILE_FILE, ...Object.values(SECRET_FILES)].some((file) => fs.existsSync(path.join(keysDir, file)));
  const kept = used ? readProfileName(keysDir) : undefined;
  if (kept !== undefined && requested !== undefined && kept !== requested) {
    throw new GatewayError('invalid_configuration',
      `the keys in ${keysDir} are for the ${kept} crypto profile (${path.join(keysDir, CRYPTO_PROFILE_FILE)}), not ${requested}: `
      + 'a profile is chosen when the keys are made; unset GATEWAY_CRYPTO_PROFILE, or use a new keys directory');
  }
  const profile = kept ?? requested ?? 'standard';
  write(CRYPTO_PROFILE_FILE, `${profile}\n`);
  write(SECRET_FILES.kek, `${newSecret(cryptoProfile(profile).aead.keyBytes).toString('base64')}\n`);
  write(SECRET_FILES.blindIndex, `${newSecret(BLIND_INDEX_BYTES).toString('base64')}\n`);
  return created;
}

/** The profile the keys directory was made for; `standard` when it predates profiles. */
export function readProfileName(keysDir: string): CryptoProfileName {
  const file = path.join(keysDir, CRYPTO_PROFILE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'standard';
    throw error;
  }
  const name = text.trim();
  if (!isCryptoProfileName(name)) {
    throw new GatewayError('key_material_missing', `${file} names no crypto profile the gateway knows ("standard" or "gm"): restore it from your backup of the keys directory`);
  }
  return name;
}

function readSecret(keysDir: string, file: string, bytes: number, what: string): Buffer {
  const fullPath = path.join(keysDir, file);
  let text: string;
  try {
    text = fs.readFileSync(fullPath, 'utf8');
  } catch (cause) {
    throw new GatewayError('key_material_missing', `${fullPath} is missing: run \`gateway init\``, { cause });
  }
  const secret = Buffer.from(text.trim(), 'base64');
  if (secret.length !== bytes) {
    throw new GatewayError('key_material_missing', `${fullPath} does not hold a ${bytes}-byte base64 key (${what}): restore it from your backup of the keys directory`);
  }
  return secret;
}

/**
 * The secrets, for the profile the directory was made for. `expected` is the profile the configuration asks for,
 * when it asks: a mismatch refuses to start rather than open data under keys of another profile.
 */
export function loadSecrets(keysDir: string, expected?: CryptoProfileName): Secrets {
  const profile = cryptoProfile(readProfileName(keysDir));
  if (expected !== undefined && expected !== profile.name) {
    throw new GatewayError('invalid_configuration',
      `GATEWAY_CRYPTO_PROFILE is ${expected}, but the keys in ${keysDir} are for the ${profile.name} profile (${path.join(keysDir, CRYPTO_PROFILE_FILE)}): `
      + 'a deployment keeps the profile its keys were made for');
  }
  return {
    profile,
    kek: { aead: profile.aead.name, secret: readSecret(keysDir, SECRET_FILES.kek, profile.aead.keyBytes, `a ${profile.aead.name} key-encryption key`) },
    blindIndex: { hash: profile.macHash, secret: readSecret(keysDir, SECRET_FILES.blindIndex, BLIND_INDEX_BYTES, 'an HMAC key') },
  };
}
