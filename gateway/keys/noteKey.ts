/**
 * The audit log's checkpoint key: an Ed25519 C2SP note key named after the log's origin, kept with its verifier
 * key in `audit-note-key.json` (0600) in the keys directory. The verifier key is public (GET /v1/audit/note-key);
 * auditors and witnesses use it to check checkpoints.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateNoteKey, parseSignerKey } from '../crypto/note.js';
import type { NoteSigner } from '../crypto/note.js';
import { GatewayError } from '../errors/index.js';

export const NOTE_KEY_FILE = 'audit-note-key.json';

export interface NoteKey {
  readonly origin: string;
  readonly signer: NoteSigner;
  /** `<name>+<key id>+<base64 key>`: what verifiers and witnesses are configured with. */
  readonly verifierKey: string;
}

/** Creates the key for `origin` if there is none; returns whether it did. */
export function ensureNoteKey(keysDir: string, origin: string): boolean {
  const file = path.join(keysDir, NOTE_KEY_FILE);
  if (fs.existsSync(file)) return false;
  fs.mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const key = generateNoteKey(origin);
  fs.writeFileSync(file, `${JSON.stringify({ origin, signer_key: key.signerKey, verifier_key: key.verifierKey }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return true;
}

export function loadNoteKey(keysDir: string, origin: string): NoteKey {
  const file = path.join(keysDir, NOTE_KEY_FILE);
  let stored: { origin: string; signer_key: string; verifier_key: string };
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof stored;
  } catch (cause) {
    throw new GatewayError('key_material_missing', `${file} is missing or unreadable: run \`gateway init\``, { cause });
  }
  if (stored.origin !== origin) {
    throw new GatewayError('invalid_configuration',
      `the audit log's origin is "${stored.origin}" (its checkpoint key is named after it), but GATEWAY_AUDIT_ORIGIN is "${origin}"`);
  }
  return { origin, signer: parseSignerKey(stored.signer_key), verifierKey: stored.verifier_key };
}
