/**
 * A participant's own key and certificate on disk, for development participants and the CLI client:
 * `<keys>/participants/<id>.key.pem` (0600) and `<id>.cert.pem`. A real participant keeps its key on its own
 * systems and only ever sends the gateway a CSR.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../errors/index.js';
import { PARTICIPANT_ID } from './protocol.js';

export interface ParticipantFiles {
  readonly keyFile: string;
  readonly certificateFile: string;
}

export function participantFiles(keysDir: string, participantId: string): ParticipantFiles {
  // The id names files: refuse anything but a participant id before it can reach a path.
  if (!PARTICIPANT_ID.test(participantId)) {
    throw new GatewayError('invalid_argument', 'participant id must be 3-64 characters: a lowercase letter, then lowercase letters, digits and -');
  }
  const dir = path.join(keysDir, 'participants');
  return { keyFile: path.join(dir, `${participantId}.key.pem`), certificateFile: path.join(dir, `${participantId}.cert.pem`) };
}

export function writeParticipantKey(keysDir: string, participantId: string, privateKeyPem: string): ParticipantFiles {
  const files = participantFiles(keysDir, participantId);
  fs.mkdirSync(path.dirname(files.keyFile), { recursive: true, mode: 0o700 });
  fs.writeFileSync(files.keyFile, privateKeyPem, { mode: 0o600, flag: 'wx' });
  return files;
}

export function writeParticipantCertificate(keysDir: string, participantId: string, certificatePem: string): void {
  const files = participantFiles(keysDir, participantId);
  fs.mkdirSync(path.dirname(files.certificateFile), { recursive: true, mode: 0o700 });
  fs.writeFileSync(files.certificateFile, certificatePem, { mode: 0o644 });
}

export function readParticipantFiles(keysDir: string, participantId: string): { privateKeyPem: string; certificatePem: string } {
  const files = participantFiles(keysDir, participantId);
  try {
    return { privateKeyPem: fs.readFileSync(files.keyFile, 'utf8'), certificatePem: fs.readFileSync(files.certificateFile, 'utf8') };
  } catch (cause) {
    throw new GatewayError('key_material_missing', `no key and certificate for participant "${participantId}" in ${path.dirname(files.keyFile)}`, { cause });
  }
}
