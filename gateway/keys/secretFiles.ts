/**
 * Symmetric secrets kept in the keys directory: the key-encryption key that wraps data keys, and the blind-index
 * key. Created once (mode 0600, never overwritten), read at start-up, never logged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { newSecret } from '../crypto/index.js';
import { GatewayError } from '../errors/index.js';

export const SECRET_FILES = {
  kek: 'data-kek.key',
  blindIndex: 'blind-index.key',
} as const;

export interface Secrets {
  readonly kek: Buffer;
  readonly blindIndex: Buffer;
}

const SECRET_BYTES = 32;

/** Creates the secret files that are missing; returns the names of those it created. */
export function ensureSecrets(keysDir: string): string[] {
  fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  for (const file of Object.values(SECRET_FILES)) {
    try {
      fs.writeFileSync(path.join(keysDir, file), `${newSecret(SECRET_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      created.push(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return created;
}

function readSecret(keysDir: string, file: string): Buffer {
  const fullPath = path.join(keysDir, file);
  let text: string;
  try {
    text = fs.readFileSync(fullPath, 'utf8');
  } catch (cause) {
    throw new GatewayError('key_material_missing', `${fullPath} is missing: run \`gateway init\``, { cause });
  }
  const secret = Buffer.from(text.trim(), 'base64');
  if (secret.length !== SECRET_BYTES) {
    throw new GatewayError('key_material_missing', `${fullPath} does not hold a ${SECRET_BYTES}-byte base64 key: restore it from your backup of the keys directory`);
  }
  return secret;
}

export function loadSecrets(keysDir: string): Secrets {
  return { kek: readSecret(keysDir, SECRET_FILES.kek), blindIndex: readSecret(keysDir, SECRET_FILES.blindIndex) };
}
